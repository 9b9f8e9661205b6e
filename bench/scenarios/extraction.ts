import { requireFiles } from '../lib/stage.ts';
import type { Scenario } from '../lib/types.ts';

/** ingest against a 25 ms API at C=8 vs the request lower bound; vs a one-at-a-time daily puller. */
export const extraction: Scenario = {
  name: 'extraction',
  title: 'ingest against a 25 ms API at C=8 vs the request lower bound; vs a one-at-a-time daily puller',
  async run() {
    requireFiles(['pipeline/simulator/index.ts', 'pipeline/extract/run-ingest.ts']);
    return { status: 'skipped', reason: 'not implemented yet' };
  },
};
