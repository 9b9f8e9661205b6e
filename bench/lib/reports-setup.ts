import { join } from 'node:path';
import { loadConfig } from '../../pipeline/config/load-config.ts';
import type { CdrpipeConfig } from '../../pipeline/config/index.ts';
import { runTransform } from '../../pipeline/transform/run-transform.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { BENCH_MONTH, BENCH_NOW, BENCH_SEED, MONTH_FROM, MONTH_TO } from './extraction-setup.ts';
import { buildLakeFixture } from './lake-fixture.ts';
import { ensurePageCorpus } from './page-corpus.ts';

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
  const corpus = await ensurePageCorpus(
    {
      cacheDir: opts.cacheDir,
      seed: BENCH_SEED,
      domains: opts.domains,
      targetRows: opts.domains * REPORTS_ROWS_PER_DOMAIN,
      from: MONTH_FROM,
      to: MONTH_TO,
      month: BENCH_MONTH,
    },
    opts.log,
  );
  const dataDir = join(opts.workDir, 'data');
  await buildLakeFixture(corpus, dataDir, BENCH_SEED);
  const config = await loadConfig();
  const clock = new FixedClock(BENCH_NOW);
  const t = await runTransform({ dataDir, config, logger: silentLogger(), clock });
  opts.log(`warehouse built: ${t.rows} rated calls, ${t.domains} domains, status ${t.status}`);
  return { dataDir, config, clock, cdrs: corpus.rows };
}
