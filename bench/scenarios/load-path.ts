import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Db, sqlString } from '../../pipeline/db/duckdb.ts';
import { cdrsDir } from '../../pipeline/lake/layout.ts';
import { LakeWriter } from '../../pipeline/lake/lake-writer.ts';
import { BENCH_MONTH, BENCH_SEED, MONTH_FROM, MONTH_TO } from '../lib/extraction-setup.ts';
import { totalBytes } from '../lib/files.ts';
import { repeatPairs } from '../lib/measure.ts';
import { ensurePageCorpus, type PageCorpus } from '../lib/page-corpus.ts';
import { requireFiles } from '../lib/stage.ts';
import { info, ratioRow } from '../lib/targets.ts';
import type { Scenario } from '../lib/types.ts';

/** Issue 7 default: 1,000,000 CDRs (times --scale) over one month of 200 domains. */
export const LOAD_PATH_DEFAULTS = { rows: 1_000_000, domains: 200 } as const;

const NAME = 'load-path';

/** (a) The pipeline's own load path: one LakeWriter merge per (month, domain) partition. */
export async function pipelineLoad(corpus: PageCorpus, dataDir: string): Promise<number> {
  await rm(dataDir, { recursive: true, force: true });
  const writer = await LakeWriter.open(dataDir, { workDir: join(dataDir, 'tmp', 'writer') });
  let rows = 0;
  try {
    for (const d of corpus.domains) {
      const res = await writer.writePartition({ domain: d.domain, month: corpus.month, range: { start: corpus.from, end: corpus.to }, files: d.files, ingestedAt: MONTH_TO });
      rows += res.rowsInRange;
    }
  } finally {
    await writer.close();
  }
  return rows;
}

/** (b) DuckDB alone: read_json of the same page bodies, COPY to one zstd Parquet file. */
export async function duckdbAlone(corpus: PageCorpus, outFile: string): Promise<number> {
  await rm(outFile, { force: true });
  const db = await Db.open(':memory:');
  try {
    const glob = sqlString(join(corpus.dir, '*', '*.json'));
    const res = await db.all<{ Count: string | number }>(`COPY (SELECT * FROM read_json(${glob}, format = 'array')) TO ${sqlString(outFile)} (FORMAT parquet, COMPRESSION zstd)`);
    return Number(res[0]?.Count ?? 0);
  } finally {
    db.close();
  }
}

/**
 * The load path: the same saved page bodies loaded by the pipeline's lake writer and by DuckDB
 * alone, pair by pair. The pipeline does more (typed columns, raw JSON kept, dedup by id,
 * one file per partition, atomic rename), and must cost at most 25% more time for it.
 */
export const loadPath: Scenario = {
  name: NAME,
  title: 'pipeline lake load of saved API pages vs DuckDB read_json -> COPY parquet zstd',
  async run(ctx) {
    requireFiles(['pipeline/simulator/cdr-gen.ts', 'pipeline/lake/lake-writer.ts']);
    const corpus = await ensurePageCorpus(
      { cacheDir: ctx.cacheDir, seed: BENCH_SEED, domains: LOAD_PATH_DEFAULTS.domains, targetRows: Math.round(LOAD_PATH_DEFAULTS.rows * ctx.scale), from: MONTH_FROM, to: MONTH_TO, month: BENCH_MONTH },
      ctx.log,
    );
    const dataDir = join(ctx.workDir, 'data');
    const outDir = join(ctx.workDir, 'duckdb');
    await mkdir(outDir, { recursive: true });
    const outFile = join(outDir, 'cdrs.parquet');
    const pairs = await repeatPairs(
      async () => pipelineLoad(corpus, dataDir),
      async () => duckdbAlone(corpus, outFile),
      { runs: ctx.runs, label: 'pipeline vs duckdb', log: ctx.log },
    );
    for (const s of pairs.samples) {
      if (s.a !== corpus.rows || s.b !== corpus.rows) throw new Error(`rows differ: corpus ${corpus.rows}, pipeline ${s.a}, duckdb ${s.b}`);
    }
    const lakeBytes = await totalBytes(cdrsDir(dataDir), '.parquet');
    const aloneBytes = (await stat(outFile)).size;
    const n = corpus.rows;
    return {
      status: 'ok',
      rows: [
        info(NAME, 'CDRs loaded', n, 'rows', `${corpus.domains.length} domains, ${(corpus.bytes / 2 ** 20).toFixed(0)} MiB of page JSON`),
        ratioRow(NAME, 'pipeline / duckdb-alone time', pairs.medianRatio, { limit: 1.25 }),
        info(NAME, 'pipeline load', n / (pairs.medianAMs / 1000), 'rows/s', `median ${(pairs.medianAMs / 1000).toFixed(1)} s`),
        info(NAME, 'duckdb alone', n / (pairs.medianBMs / 1000), 'rows/s', `median ${(pairs.medianBMs / 1000).toFixed(1)} s`),
        info(NAME, 'lake Parquet bytes per CDR', lakeBytes / n, 'B', `${corpus.domains.length} partition files, typed columns + raw JSON`),
        info(NAME, 'duckdb-alone Parquet bytes per CDR', aloneBytes / n, 'B', 'one file, auto-detected columns'),
      ],
    };
  },
};
