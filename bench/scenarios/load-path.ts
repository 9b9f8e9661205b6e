import { requireFiles } from '../lib/stage.ts';
import type { Scenario } from '../lib/types.ts';

/** pipeline lake load of saved API pages vs DuckDB read_json -> COPY parquet zstd. */
export const loadPath: Scenario = {
  name: 'load-path',
  title: 'pipeline lake load of saved API pages vs DuckDB read_json -> COPY parquet zstd',
  async run() {
    requireFiles(['pipeline/simulator/index.ts', 'pipeline/extract/run-ingest.ts']);
    return { status: 'skipped', reason: 'not implemented yet' };
  },
};
