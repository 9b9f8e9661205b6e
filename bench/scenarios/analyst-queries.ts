import { requireFiles } from '../lib/stage.ts';
import type { Scenario } from '../lib/types.ts';

/** usage_monthly over the partitioned lake vs one sorted Parquet file. */
export const analystQueries: Scenario = {
  name: 'analyst-queries',
  title: 'usage_monthly over the partitioned lake vs one sorted Parquet file',
  async run() {
    requireFiles(['pipeline/transform/run-transform.ts']);
    return { status: 'skipped', reason: 'not implemented yet' };
  },
};
