import { requireFiles } from '../lib/stage.ts';
import type { Scenario } from '../lib/types.ts';

/** 1,000 customer reports rendered and sent to a loopback SMTP server. */
export const reports: Scenario = {
  name: 'reports',
  title: '1,000 customer reports rendered and sent to a loopback SMTP server',
  async run() {
    requireFiles(['pipeline/report/run-reports.ts', 'pipeline/transform/run-transform.ts']);
    return { status: 'skipped', reason: 'not implemented yet' };
  },
};
