import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sqlString, type Db } from '../db/duckdb.ts';
import { fsyncPath } from '../util/atomic-file.ts';
import { compactedPartitionValue, monthPartitions } from './compacted-partition.ts';
import { countedRowsFrom } from './counted-rows-sql.ts';
import { LAKE_COLUMNS } from './lake-columns.ts';
import { cdrsDir, DOMAIN_NAME_COLUMN } from './layout.ts';

/** How a compacted month is shaped. */
export interface CompactShape {
  /** At most this many files per compacted month (object-store engines slow down on many small files). */
  maxFiles: number;
  /** Rows per file before another file is started (up to maxFiles). */
  rowsPerFile: number;
  /** Rows per Parquet row group: small enough that a filter on one domain reads one or two groups. */
  rowGroupRows: number;
}

export const DEFAULT_COMPACT_SHAPE: CompactShape = { maxFiles: 16, rowsPerFile: 2_000_000, rowGroupRows: 65_536 };

export interface CompactMonthResult {
  month: string;
  /** False when the month was already in its compacted shape (nothing written). */
  changed: boolean;
  generation?: number;
  files: number;
  rows: number;
  domains: number;
  /** Per-domain partitions folded in and removed. */
  partitionsFolded: number;
  /** Older compacted generations removed. */
  generationsRemoved: number;
}

/**
 * Compacts one month of lake/cdrs: the rows that count (lake/counted-rows-sql.ts) are written
 * sorted by (domain, start_time, id) into at most `maxFiles` files of a new generation, published
 * with one rename; the per-domain partitions and older generations it folded in are removed after.
 * Idempotent: a month already in its compacted shape is left as it is. The caller holds the lake's
 * writer lock (the ingest lock), so no partition changes meanwhile.
 */
export async function compactMonth(
  db: Db,
  opts: { dataDir: string; month: string; workDir: string; shape?: CompactShape },
): Promise<CompactMonthResult> {
  const { dataDir, month } = opts;
  const shape = opts.shape ?? DEFAULT_COMPACT_SHAPE;
  const before = monthPartitions(dataDir, month);
  const newest = before.generations.at(-1);
  if (before.domains.length === 0 && before.generations.length <= 1) {
    return {
      month,
      changed: false,
      generation: newest?.generation,
      files: newest?.files.length ?? 0,
      rows: 0,
      domains: 0,
      partitionsFolded: 0,
      generationsRemoved: 0,
    };
  }
  const monthDir = join(cdrsDir(dataDir), `month=${month}`);
  const glob = join(monthDir, '*', '*.parquet');
  // Every file column in the lake's order, then whatever older files add, and the full domain name last.
  const known = LAKE_COLUMNS.map((c) => c.name).filter((n) => n !== 'domain');
  await db.run(
    `CREATE OR REPLACE TEMP VIEW month_files AS SELECT * FROM read_parquet(${sqlString(glob)}, hive_partitioning = true, union_by_name = true, hive_types = {'month': VARCHAR, 'domain': VARCHAR})`,
  );
  const present = (await db.all<{ column_name: string }>(`SELECT column_name FROM (DESCRIBE month_files)`)).map((c) => c.column_name);
  const extra = present.filter((c) => !known.includes(c) && !['domain', 'month', DOMAIN_NAME_COLUMN].includes(c));
  const columns = [...known.filter((c) => present.includes(c)), ...extra];
  const fullDomain = present.includes(DOMAIN_NAME_COLUMN) ? `coalesce(f.${DOMAIN_NAME_COLUMN}, f.domain)` : 'f.domain';
  await db.run(
    `CREATE OR REPLACE TEMP VIEW month_rows AS SELECT ${columns.map((c) => `f.${c}`).join(', ')}, ${fullDomain} AS ${DOMAIN_NAME_COLUMN} ${
      present.includes(DOMAIN_NAME_COLUMN) ? countedRowsFrom('month_files') : 'FROM month_files f'
    }`,
  );
  const perDomain = await db.all<{ d: string; n: number }>(
    `SELECT ${DOMAIN_NAME_COLUMN} AS d, count(*)::INTEGER AS n FROM month_rows GROUP BY 1 ORDER BY 1`,
  );
  const total = perDomain.reduce((s, r) => s + Number(r.n), 0);
  const generation = (newest?.generation ?? 0) + 1;
  const stageRoot = join(opts.workDir, `compact-${month}-${randomUUID()}`);
  const stageDir = join(stageRoot, `domain=${compactedPartitionValue(month, generation)}`);
  await mkdir(stageDir, { recursive: true });
  try {
    const groups = domainGroups(perDomain, Math.min(shape.maxFiles, Math.max(1, Math.ceil(total / shape.rowsPerFile))));
    let written = 0;
    for (const [i, g] of groups.entries()) {
      const file = join(stageDir, `part-${String(i).padStart(2, '0')}.parquet`);
      const res = await db.all(
        `COPY (SELECT * FROM month_rows WHERE ${DOMAIN_NAME_COLUMN} >= ${sqlString(g.first)} AND ${DOMAIN_NAME_COLUMN} <= ${sqlString(g.last)}
               ORDER BY ${DOMAIN_NAME_COLUMN}, start_time, id)
         TO ${sqlString(file)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${shape.rowGroupRows})`,
      );
      written += Number(Object.values(res[0] ?? {})[0] ?? 0);
    }
    // The rows read back come from the written files' footers: no data page is read again.
    const check = await db.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(join(stageDir, '*.parquet'))})`);
    if (written !== total || Number(check?.n) !== total) {
      throw new Error(`compacting month=${month}: wrote ${written} rows (read back ${check?.n}) of ${total}; the lake is unchanged`);
    }
    for (const f of await readdir(stageDir)) await fsyncPath(join(stageDir, f));
    // One rename publishes the generation; from here each step leaves the same rows counted.
    const published = join(monthDir, `domain=${compactedPartitionValue(month, generation)}`);
    await rename(stageDir, published);
    await fsyncPath(dirname(published));
    for (const d of before.domains) await removePartition(join(monthDir, `domain=${d}`));
    for (const g of before.generations) await removePartition(g.dir);
    return {
      month,
      changed: true,
      generation,
      files: groups.length,
      rows: total,
      domains: perDomain.length,
      partitionsFolded: before.domains.length,
      generationsRemoved: before.generations.length,
    };
  } finally {
    await rm(stageRoot, { recursive: true, force: true });
    await db.run('DROP VIEW IF EXISTS month_rows; DROP VIEW IF EXISTS month_files');
  }
}

/** Contiguous runs of domains (in order) with about equal rows, at most `k` of them; a domain is never split. */
export function domainGroups(perDomain: readonly { d: string; n: number }[], k: number): { first: string; last: string; rows: number }[] {
  const total = perDomain.reduce((s, r) => s + Number(r.n), 0);
  const target = total / Math.max(1, k);
  const groups: { first: string; last: string; rows: number }[] = [];
  for (const r of perDomain) {
    const cur = groups.at(-1);
    if (cur && (cur.rows < target || groups.length >= k)) {
      cur.last = r.d;
      cur.rows += Number(r.n);
    } else groups.push({ first: r.d, last: r.d, rows: Number(r.n) });
  }
  return groups;
}

/** Removes a partition's files, then the directory: a reader sees the files go one by one, never a torn file. */
async function removePartition(dir: string): Promise<void> {
  for (const f of await readdir(dir).catch(() => [] as string[])) await rm(join(dir, f), { force: true });
  await rm(dir, { recursive: true, force: true });
}
