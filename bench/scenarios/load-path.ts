import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Db, sqlString } from '../../pipeline/db/duckdb.ts';
import { cdrsDir } from '../../pipeline/lake/layout.ts';
import { LakeWriter } from '../../pipeline/lake/lake-writer.ts';
import { isPlainRecord } from '../../pipeline/lake/plain-record.ts';
import { encodePage } from '../../pipeline/extract/spool.ts';
import { parseCdrPage } from '../../pipeline/source/cdr-page.ts';
import { validateCdr } from '../../pipeline/source/cdr-record.ts';
import { BENCH_MONTH, BENCH_SEED, MONTH_FROM, MONTH_TO } from '../lib/extraction-setup.ts';
import { totalBytes } from '../lib/files.ts';
import { timeIt, timeWithCpu } from '../lib/measure.ts';
import { median } from '../lib/stats.ts';
import { ensurePageCorpus, type PageCorpus } from '../lib/page-corpus.ts';
import { requireFiles } from '../lib/stage.ts';
import { info, ratioRow } from '../lib/targets.ts';
import { domainsFor, notes, reducedNote, sizeOf, type SizeSpec } from '../lib/sizes.ts';
import type { Scenario } from '../lib/types.ts';

/** Full size: 1,000,000 CDRs; domains at 200 per million, so partitions are as large at any size. */
export const LOAD_PATH_ROWS: SizeSpec = { full: 1_000_000, reduced: 100_000 };

const NAME = 'load-path';

/**
 * (a) The pipeline's own load path: one LakeWriter merge per (month, domain) partition, issued
 * as runIngest issues them (a flush does not wait for the one before it; the writer runs
 * different partitions side by side on its lanes).
 */
export async function pipelineLoad(corpus: PageCorpus, dataDir: string): Promise<number> {
  await rm(dataDir, { recursive: true, force: true });
  const writer = await LakeWriter.open(dataDir, { workDir: join(dataDir, 'tmp', 'writer') });
  try {
    const results = await Promise.all(
      corpus.domains.map((d) =>
        writer.writePartition({
          domain: d.domain,
          month: corpus.month,
          range: { start: corpus.from, end: corpus.to },
          files: d.spoolFiles,
          ingestedAt: MONTH_TO,
          // As runIngest passes it after a fetch that saw every id once (the corpus has no duplicates).
          duplicateIds: [],
        }),
      ),
    );
    return results.reduce((n, r) => n + r.rowsInRange, 0);
  } finally {
    await writer.close();
  }
}

/** (b) DuckDB alone: read_json of the same page bodies, COPY to one zstd Parquet file. */
export async function duckdbAlone(corpus: PageCorpus, outFile: string): Promise<number> {
  await rm(outFile, { force: true });
  const db = await Db.open(':memory:');
  try {
    const glob = sqlString(join(corpus.dir, '*', '*.json'));
    const res = await db.all<{ Count: string | number }>(
      `COPY (SELECT * FROM read_json(${glob}, format = 'array')) TO ${sqlString(outFile)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    return Number(res[0]?.Count ?? 0);
  } finally {
    db.close();
  }
}

/** (b') DuckDB alone with the lake's shape: one COPY per domain, one file each. */
export async function duckdbPerPartition(corpus: PageCorpus, outDir: string): Promise<number> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const db = await Db.open(':memory:');
  let rows = 0;
  try {
    for (const [i, d] of corpus.domains.entries()) {
      const res = await db.all<{ Count: string | number }>(
        `COPY (SELECT * FROM read_json([${d.files.map(sqlString).join(', ')}], format = 'array')) TO ${sqlString(join(outDir, `${i}.parquet`))} (FORMAT parquet, COMPRESSION zstd)`,
      );
      rows += Number(res[0]?.Count ?? 0);
    }
  } finally {
    db.close();
  }
  return rows;
}

/**
 * What the ingest does with a page on the fetch side, per CDR, on up to `maxFiles` pages:
 * parseCdrPage (JSON.parse + validation), the plain check and the spool encoding, against
 * JSON.parse + validation + UTF-8 encoding of the body (what writing the body as received cost
 * before the spool format). Microseconds per CDR, best of three passes.
 */
async function fetchSideMicros(corpus: PageCorpus, maxFiles: number): Promise<{ now: number; before: number; plainShare: number }> {
  const bodies = await Promise.all(
    corpus.domains
      .flatMap((d) => d.files)
      .slice(0, maxFiles)
      .map((f) => readFile(f, 'utf8')),
  );
  const ctx = { domain: 'bench.example', window: { start: corpus.from, end: corpus.to }, offset: 0, limit: 1000 };
  let n = 0;
  let plain = 0;
  const best = (fn: () => void) => {
    let ms = Infinity;
    for (let pass = 0; pass < 3; pass++) {
      const t0 = performance.now();
      fn();
      ms = Math.min(ms, performance.now() - t0);
    }
    return ms;
  };
  const nowMs = best(() => {
    n = 0;
    plain = 0;
    for (const body of bodies) {
      const page = parseCdrPage(body, ctx);
      if (page.records.every(isPlainRecord)) plain += page.records.length;
      encodePage(page);
      n += page.received;
    }
  });
  const beforeMs = best(() => {
    for (const body of bodies) {
      for (const r of JSON.parse(body) as unknown[]) validateCdr(r);
      Buffer.from(body, 'utf8');
    }
  });
  return { now: (nowMs * 1000) / Math.max(1, n), before: (beforeMs * 1000) / Math.max(1, n), plainShare: plain / Math.max(1, n) };
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
      {
        cacheDir: ctx.cacheDir,
        seed: BENCH_SEED,
        domains: domainsFor(sizeOf(ctx, LOAD_PATH_ROWS)),
        targetRows: sizeOf(ctx, LOAD_PATH_ROWS),
        from: MONTH_FROM,
        to: MONTH_TO,
        month: BENCH_MONTH,
      },
      ctx.log,
    );
    const dataDir = join(ctx.workDir, 'data');
    const outDir = join(ctx.workDir, 'duckdb');
    const perDir = join(ctx.workDir, 'duckdb-per-partition');
    await mkdir(outDir, { recursive: true });
    const outFile = join(outDir, 'cdrs.parquet');
    // Three loads back to back per run; each ratio comes from one run's own pair.
    const ms = { pipeline: [] as number[], alone: [] as number[], per: [] as number[] };
    const ratios = { alone: [] as number[], per: [] as number[], cpu: [] as number[] };
    for (let run = -1; run < ctx.runs; run++) {
      const a = await timeWithCpu(() => pipelineLoad(corpus, dataDir));
      const b = await timeWithCpu(() => duckdbAlone(corpus, outFile));
      const c = await timeIt(() => duckdbPerPartition(corpus, perDir));
      ctx.log(
        `${run < 0 ? 'warm-up' : `run ${run + 1}/${ctx.runs}`}: pipeline ${a.ms.toFixed(0)} ms (${(a.cpuMs / 1000).toFixed(1)} CPU-s), ` +
          `duckdb one file ${b.ms.toFixed(0)} ms (${(b.cpuMs / 1000).toFixed(1)} CPU-s), duckdb per partition ${c.ms.toFixed(0)} ms`,
      );
      for (const [what, n] of [
        ['pipeline', a.result],
        ['duckdb one file', b.result],
        ['duckdb per partition', c.result],
      ] as const) {
        if (n !== corpus.rows) throw new Error(`${what} loaded ${n} rows, the corpus holds ${corpus.rows}`);
      }
      if (run < 0) continue;
      ms.pipeline.push(a.ms);
      ms.alone.push(b.ms);
      ms.per.push(c.ms);
      ratios.alone.push(a.ms / b.ms);
      ratios.per.push(a.ms / c.ms);
      ratios.cpu.push(a.cpuMs / b.cpuMs);
    }
    const fetchSide = await fetchSideMicros(corpus, 100);
    const lakeBytes = await totalBytes(cdrsDir(dataDir), '.parquet');
    const aloneBytes = (await stat(outFile)).size;
    const n = corpus.rows;
    const rate = (xs: number[]) => n / (median(xs) / 1000);
    return {
      status: 'ok',
      rows: [
        info(
          NAME,
          'CDRs loaded',
          n,
          'rows',
          notes(
            `${corpus.domains.length} domains x 1 month, ${(corpus.bytes / 2 ** 20).toFixed(0)} MiB of page JSON`,
            reducedNote(ctx, LOAD_PATH_ROWS),
          ),
        ),
        ratioRow(
          NAME,
          'pipeline / duckdb-alone time',
          median(ratios.alone),
          { limit: 1.25 },
          'duckdb: one read_json -> COPY over all pages',
        ),
        info(
          NAME,
          'pipeline / duckdb-alone CPU time',
          median(ratios.cpu),
          'x',
          "user + system CPU of the same pairs; bench/load-path-breakdown.ts splits the pipeline statement's CPU by what it does",
        ),
        info(NAME, 'pipeline / duckdb per-partition time', median(ratios.per), 'x', "duckdb: one COPY per domain, the lake's file shape"),
        info(
          NAME,
          'pipeline load',
          rate(ms.pipeline),
          'rows/s',
          `median ${(median(ms.pipeline) / 1000).toFixed(1)} s (LakeWriter.writePartition per domain)`,
        ),
        info(NAME, 'duckdb alone', rate(ms.alone), 'rows/s', `median ${(median(ms.alone) / 1000).toFixed(1)} s`),
        info(NAME, 'duckdb per partition', rate(ms.per), 'rows/s', `median ${(median(ms.per) / 1000).toFixed(1)} s`),
        info(
          NAME,
          'fetch-side page handling per CDR',
          fetchSide.now,
          'µs',
          `parse + validate + plain check + spool encoding (not in the load time); parse + validate + encoding the body as it came: ${fetchSide.before.toFixed(2)} µs; ${(fetchSide.plainShare * 100).toFixed(1)}% of CDRs on plain pages`,
        ),
        info(NAME, 'lake Parquet bytes per CDR', lakeBytes / n, 'B', `${corpus.domains.length} partition files, typed columns + raw JSON`),
        info(NAME, 'duckdb-alone Parquet bytes per CDR', aloneBytes / n, 'B', 'one file, auto-detected columns'),
      ],
    };
  },
};
