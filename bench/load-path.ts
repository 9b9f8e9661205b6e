/**
 * Load path: saved API page bodies (as the ingest spools them) -> lake partitions through the pipeline's LakeWriter, vs
 * DuckDB's own `read_json -> COPY ... (FORMAT parquet, COMPRESSION zstd)` over the same files.
 *
 *   npx tsx bench/load-path.ts [--rows 300000] [--domains 20] [--runs 3]
 *
 * `measureLoadPath` is what the bench scenario calls; running this file prints the figures.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { Db, sqlString } from '../pipeline/db/duckdb.ts';
import { LakeWriter } from '../pipeline/lake/lake-writer.ts';
import { countArg } from './lib/args.ts';
import { ensurePageCorpus, type PageCorpus } from './lib/page-corpus.ts';

export interface LoadPathFigures {
  rows: number;
  bytes: number;
  /** Median over runs. */
  nativeRowsPerSec: number;
  pipelineRowsPerSec: number;
  /** pipeline / native; the target is >= 0.8. */
  ratio: number;
  /** The same with the de-duplication pass forced on (what a fetch that saw an id twice costs). */
  pipelineDedupRowsPerSec: number;
  dedupRatio: number;
  nativeMs: number[];
  pipelineMs: number[];
  pipelineDedupMs: number[];
  /** Peak RSS of this process so far, MiB. */
  peakRssMiB: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** DuckDB alone: every page file of the corpus into one Parquet file per domain. */
async function nativeLoad(corpus: PageCorpus, out: string): Promise<number> {
  const db = await Db.open(':memory:', { settings: { threads: '2', memory_limit: '512MB', preserve_insertion_order: 'false' } });
  try {
    const t0 = performance.now();
    for (const [i, d] of corpus.domains.entries()) {
      if (d.files.length === 0) continue;
      await db.run(
        `COPY (SELECT * FROM read_json([${d.files.map(sqlString).join(', ')}], format = 'array')) TO ${sqlString(join(out, `${i}.parquet`))} (FORMAT parquet, COMPRESSION zstd)`,
      );
    }
    return performance.now() - t0;
  } finally {
    db.close();
  }
}

/** The pipeline: one LakeWriter partition merge per domain (fresh lake), issued together as runIngest issues them. */
async function pipelineLoad(corpus: PageCorpus, dataDir: string, dedup: boolean): Promise<number> {
  const writer = await LakeWriter.open(dataDir, { workDir: join(dataDir, 'tmp', 'writer') });
  try {
    const t0 = performance.now();
    await Promise.all(
      corpus.domains
        .filter((d) => d.files.length > 0)
        .map((d) =>
          writer.writePartition({
            domain: d.domain,
            month: corpus.month,
            range: { start: corpus.from, end: corpus.to },
            files: d.spoolFiles,
            ingestedAt: new Date(),
            ...(dedup ? {} : { duplicateIds: [] }),
          }),
        ),
    );
    return performance.now() - t0;
  } finally {
    await writer.close();
  }
}

export async function measureLoadPath(opts: {
  corpus: PageCorpus;
  workDir: string;
  runs: number;
  log?: (line: string) => void;
}): Promise<LoadPathFigures> {
  const nativeMs: number[] = [];
  const pipelineMs: number[] = [];
  const pipelineDedupMs: number[] = [];
  // Alternate the two so machine noise (shared cores) hits both alike; run 0 warms the page cache.
  for (let run = 0; run <= opts.runs; run++) {
    const dir = await mkdtemp(join(opts.workDir, 'run-'));
    try {
      const n = await nativeLoad(opts.corpus, dir);
      const p = await pipelineLoad(opts.corpus, join(dir, 'data'), false);
      const pd = await pipelineLoad(opts.corpus, join(dir, 'data-dedup'), true);
      if (run > 0) {
        nativeMs.push(n);
        pipelineMs.push(p);
        pipelineDedupMs.push(pd);
        opts.log?.(`run ${run}: native ${n.toFixed(0)} ms, pipeline ${p.toFixed(0)} ms, pipeline with dedup ${pd.toFixed(0)} ms`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const rows = opts.corpus.rows;
  const nativeRowsPerSec = Math.round(rows / (median(nativeMs) / 1000));
  const pipelineRowsPerSec = Math.round(rows / (median(pipelineMs) / 1000));
  const pipelineDedupRowsPerSec = Math.round(rows / (median(pipelineDedupMs) / 1000));
  return {
    rows,
    bytes: opts.corpus.bytes,
    nativeRowsPerSec,
    pipelineRowsPerSec,
    ratio: Math.round((pipelineRowsPerSec / nativeRowsPerSec) * 100) / 100,
    pipelineDedupRowsPerSec,
    dedupRatio: Math.round((pipelineDedupRowsPerSec / nativeRowsPerSec) * 100) / 100,
    nativeMs,
    pipelineMs,
    pipelineDedupMs,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

const arg = (name: string, fallback: number) => countArg(process.argv, name, fallback);

if (process.argv[1] && /load-path\.ts$/.test(process.argv[1])) {
  const log = (line: string) => process.stderr.write(`[load-path] ${line}\n`);
  const cacheDir = join(os.tmpdir(), 'cdrpipe-bench-cache');
  const corpus = await ensurePageCorpus(
    {
      cacheDir,
      seed: 7,
      domains: arg('domains', 20),
      targetRows: arg('rows', 300_000),
      from: new Date('2026-10-01T00:00:00Z'),
      to: new Date('2026-11-01T00:00:00Z'),
      month: '2026-10',
    },
    log,
  );
  const workDir = await mkdtemp(join(os.tmpdir(), 'cdrpipe-load-path-'));
  try {
    const f = await measureLoadPath({ corpus, workDir, runs: arg('runs', 3), log });
    process.stdout.write(JSON.stringify(f, null, 2) + '\n');
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
