import { requireFiles } from '../lib/stage.ts';
import type { Scenario } from '../lib/types.ts';

/** peak RSS of an ingest process at two backfill sizes. */
export const memory: Scenario = {
  name: 'memory',
  title: 'peak RSS of an ingest process at two backfill sizes',
  async run() {
    requireFiles(['pipeline/simulator/index.ts', 'pipeline/extract/run-ingest.ts']);
    return { status: 'skipped', reason: 'not implemented yet' };
  },
};
