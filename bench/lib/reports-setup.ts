import type { CdrpipeConfig } from '../../pipeline/config/index.ts';
import type { FixedClock } from '../../pipeline/util/clock.ts';
import { buildCorpusLake } from './corpus-lake.ts';
import { BENCH_NOW } from './extraction-setup.ts';

/** CDRs per customer domain-month in the reports lake (a small reseller's customers). */
export const REPORTS_ROWS_PER_DOMAIN = 200;

export interface ReportsWarehouse {
  dataDir: string;
  config: CdrpipeConfig;
  clock: FixedClock;
  /** CDRs in the month. */
  cdrs: number;
}

/**
 * The `reports` scenario's data directory: a month of `domains` customer domains (200 CDRs each,
 * seed 7) written as a lake and built into warehouse.duckdb by the real transform.
 */
export async function buildReportsWarehouse(opts: {
  cacheDir: string;
  workDir: string;
  domains: number;
  log: (line: string) => void;
}): Promise<ReportsWarehouse> {
  const lake = await buildCorpusLake({
    ...opts,
    targetRows: opts.domains * REPORTS_ROWS_PER_DOMAIN,
    now: BENCH_NOW,
    transform: true,
  });
  return { dataDir: lake.dataDir, config: lake.config, clock: lake.clock, cdrs: lake.rows };
}
