/**
 * Where the load path's time goes, against DuckDB alone: the lake's row statement (plain SQL,
 * as the lake writer runs it for a fresh partition) and variants of it that leave out work the
 * lake's schema requires (the raw record, one file per partition), all on one connection with threads = 1 so that CPU seconds compare
 * like for like (no lane or thread scheduling in the figures).
 *
 *   npx tsx bench/load-path-breakdown.ts [--domains 40] [--rounds 5]
 *
 * Uses the first `--domains` domains of the load-path scenario's 1M corpus (built or reused in
 * the bench cache). Variants, each one statement per domain unless said otherwise:
 * - `lake`: the statement as the writer runs it (typed columns + raw as JSON).
 * - `lake, raw as VARCHAR`: raw kept but not validated as JSON (what the cast costs).
 * - `lake, no raw`: raw left out (what writing the lossless record costs).
 * - `lake, one statement`: every domain's files in one statement and one file (what a statement and
 *   a file per partition cost; not a valid lake).
 * - `lake, one statement, PARTITION_BY`: the same statement writing one file per partition
 *   (`COPY … PARTITION_BY`), the lake's shape: what batching partitions into statements would give.
 * - `duckdb alone, one statement`: `read_json -> COPY` over all the files, as the scenario's reference.
 * Prints CPU seconds per variant (median over rounds, variants alternating) and each one's
 * ratio to DuckDB alone.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { Db, sqlString } from '../pipeline/db/duckdb.ts';
import { PARQUET_OPTIONS } from '../pipeline/lake/merge-sql.ts';
import { fillSql, lakeSql } from '../pipeline/lake/sql-files.ts';
import { cdrRowsSql } from '../pipeline/lake/row-sql.ts';
import { BENCH_MONTH, BENCH_SEED, MONTH_FROM, MONTH_TO } from './lib/extraction-setup.ts';
import { countArg } from './lib/args.ts';
import { timeWithCpu } from './lib/measure.ts';
import { ensurePageCorpus } from './lib/page-corpus.ts';
import { median } from './lib/stats.ts';
import { domainsFor } from './lib/sizes.ts';
import { LOAD_PATH_ROWS } from './scenarios/load-path.ts';

const arg = (name: string, fallback: number) => countArg(process.argv, name, fallback);

/** The plain row SQL with one piece of it replaced; throws if the piece is not there (the SQL changed). */
function without(sql: string, piece: string, by: string): string {
  if (!sql.includes(piece))
    throw new Error(`the plain row SQL (lake/row-sql.ts) no longer contains ${JSON.stringify(piece)}; update the breakdown`);
  return sql.replace(piece, by);
}

const log = (line: string) => process.stderr.write(`[breakdown] ${line}\n`);
const corpus = await ensurePageCorpus(
  {
    cacheDir: join(os.tmpdir(), 'cdrpipe-bench-cache'),
    seed: BENCH_SEED,
    domains: domainsFor(LOAD_PATH_ROWS.full),
    targetRows: LOAD_PATH_ROWS.full,
    from: MONTH_FROM,
    to: MONTH_TO,
    month: BENCH_MONTH,
  },
  log,
);
const domains = corpus.domains.slice(0, arg('domains', 40));
const rows = domains.reduce((n, d) => n + d.rows, 0);
const plain = cdrRowsSql('plain');
const fill = (sql: string, files: readonly string[], extra: Record<string, string> = {}) =>
  `SELECT * EXCLUDE (domain, fetch_seq) FROM (${fillSql(sql, {
    files: `[${files.map(sqlString).join(', ')}]`,
    domain: sqlString('bench.example'),
    ingested_at: sqlString(MONTH_TO.toISOString()),
    range_start: sqlString(corpus.from.toISOString()),
    range_end: sqlString(corpus.to.toISOString()),
    dedup: '',
    fetch_seq: 'NULL::BIGINT',
    join: '',
    part: '',
    ...extra,
  })})`;
// One part number per file, so a PARTITION_BY write can put each domain's rows in its own file.
const partitioned = without(
  without(
    without(plain, '  fetch_seq\nFROM', '  fetch_seq,\n  part\nFROM'),
    '{{fetch_seq}} AS fetch_seq',
    '{{fetch_seq}} AS fetch_seq, part',
  ),
  'AS json, filename FROM read_text({{files}})',
  'AS json, filename, {{parts}}[list_position({{files}}, filename)] AS part FROM read_text({{files}})',
);
const allFiles = domains.flatMap((d) => d.spoolFiles);
const parts = `[${domains.flatMap((d, i) => d.spoolFiles.map(() => i)).join(', ')}]`;
const perDomain = (sql: string) => (out: string) =>
  domains.map((d, i) => `COPY (${fill(sql, d.spoolFiles)}) TO ${sqlString(join(out, `${i}.parquet`))} (${PARQUET_OPTIONS})`);
/** A variant's statements for an output directory; `filePerPartition`: it must write one file per partition. */
interface Variant {
  statements: (out: string) => string[];
  filePerPartition?: boolean;
}
const variants: Record<string, Variant> = {
  lake: { statements: perDomain(plain), filePerPartition: true },
  'lake, raw as VARCHAR': { statements: perDomain(without(plain, 'json::JSON AS raw', 'json AS raw')), filePerPartition: true },
  'lake, no raw': { statements: perDomain(without(plain, 'json::JSON AS raw', 'NULL::VARCHAR AS raw')), filePerPartition: true },
  'lake, one statement': {
    statements: (out) => [`COPY (${fill(plain, allFiles)}) TO ${sqlString(join(out, 'all.parquet'))} (${PARQUET_OPTIONS})`],
  },
  'lake, one statement, PARTITION_BY': {
    statements: (out) => [
      `COPY (${fill(partitioned, allFiles, { parts })}) TO ${sqlString(join(out, 'parts'))} (${PARQUET_OPTIONS}, PARTITION_BY (part))`,
    ],
    filePerPartition: true,
  },
  'duckdb alone, one statement': {
    statements: (out) => [
      `COPY (SELECT * FROM read_json([${domains
        .flatMap((d) => d.files)
        .map(sqlString)
        .join(', ')}], format = 'array')) TO ${sqlString(join(out, 'alone.parquet'))} (FORMAT parquet, COMPRESSION zstd)`,
    ],
  },
};

const work = await mkdtemp(join(os.tmpdir(), 'cdrpipe-breakdown-'));
const db = await Db.open(':memory:', {
  settings: { threads: '1', memory_limit: '1GB', preserve_insertion_order: 'false', temp_directory: join(work, 'spill') },
});
try {
  await db.exec(lakeSql('cdr-macros.sql'));
  const cpu: Record<string, number[]> = {};
  log(`${domains.length} domains, ${rows.toLocaleString('en-US')} CDRs, threads = 1`);
  for (let round = -1; round < arg('rounds', 5); round++) {
    for (const [name, { statements, filePerPartition }] of Object.entries(variants)) {
      const out = join(work, 'out');
      await rm(out, { recursive: true, force: true });
      await mkdir(out, { recursive: true });
      const t = await timeWithCpu(async () => {
        for (const sql of statements(out)) await db.run(sql);
      });
      if (round >= 0) (cpu[name] ??= []).push(t.cpuMs / 1000);
      else {
        // Every variant must have written every CDR, and the lake-shaped ones one file per partition.
        const check = await db.one<{ n: number | string; files: number | string }>(
          `SELECT count(*) AS n, count(DISTINCT filename) AS files FROM read_parquet(${sqlString(join(out, '**', '*.parquet'))}, filename = true)`,
        );
        if (Number(check?.n) !== rows)
          throw new Error(`${name} wrote ${String(check?.n)} rows, the ${domains.length} partitions hold ${rows}`);
        if (filePerPartition && Number(check?.files) !== domains.length)
          throw new Error(`${name} wrote ${String(check?.files)} files for ${domains.length} partitions`);
      }
    }
    log(round < 0 ? 'warm-up done' : `round ${round + 1} done`);
  }
  const alone = median(cpu['duckdb alone, one statement']!);
  process.stdout.write(`| variant | CPU s (median) | / duckdb alone | rounds |\n|---|---|---|---|\n`);
  for (const [name, xs] of Object.entries(cpu)) {
    process.stdout.write(
      `| ${name} | ${median(xs).toFixed(2)} | ${(median(xs) / alone).toFixed(2)} | ${xs.map((x) => x.toFixed(2)).join(', ')} |\n`,
    );
  }
} finally {
  db.close();
  await rm(work, { recursive: true, force: true });
}
