import { join } from 'node:path';
import { loadConfig } from '../../pipeline/config/load-config.ts';
import type { CdrpipeConfig } from '../../pipeline/config/index.ts';
import { runTransform } from '../../pipeline/transform/run-transform.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { BENCH_MONTH, BENCH_SEED, MONTH_FROM, MONTH_TO } from './extraction-setup.ts';
import { buildLakeFixture } from './lake-fixture.ts';
import { ensurePageCorpus, type PageCorpus } from './page-corpus.ts';

export interface CorpusLake {
  dataDir: string;
  config: CdrpipeConfig;
  clock: FixedClock;
  /** CDRs in the lake. */
  rows: number;
  corpus: PageCorpus;
}

/**
 * A data directory at `<workDir>/data` holding the bench month's page corpus (seed 7, cached in
 * `cacheDir`) as a lake, with the project's jobs.config.ts and a clock fixed at `now`; with
 * `transform`, also built into warehouse.duckdb by the real transform.
 */
export async function buildCorpusLake(opts: {
  cacheDir: string;
  workDir: string;
  domains: number;
  targetRows: number;
  /** End of the corpus (default: the end of the bench month). */
  to?: Date;
  now: Date;
  transform?: boolean;
  log: (line: string) => void;
}): Promise<CorpusLake> {
  const corpus = await ensurePageCorpus(
    {
      cacheDir: opts.cacheDir,
      seed: BENCH_SEED,
      domains: opts.domains,
      targetRows: opts.targetRows,
      from: MONTH_FROM,
      to: opts.to ?? MONTH_TO,
      month: BENCH_MONTH,
    },
    opts.log,
  );
  const dataDir = join(opts.workDir, 'data');
  await buildLakeFixture(corpus, dataDir, BENCH_SEED);
  const config = await loadConfig();
  const clock = new FixedClock(opts.now);
  if (opts.transform) {
    const t = await runTransform({ dataDir, config, logger: silentLogger(), clock });
    opts.log(`warehouse built: ${t.rows} rated calls, ${t.domains} domains, status ${t.status}`);
  }
  return { dataDir, config, clock, rows: corpus.rows, corpus };
}
