/**
 * The lake side of reconciliation: local month bounds, which domains the lake holds for a month,
 * and the lake's counts, seconds, duplicates and rejects for a window.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Db, sqlString, withDb } from '../db/duckdb.ts';
import { damagedLakeErrorOr, cdrsDir, DOMAIN_NAME_COLUMN, domainMonthFiles, rejectsDir, decodePartitionValue } from '../lake/index.ts';
import { addMonths, type Month } from '../util/month.ts';

/** Local month bounds as UTC instants, computed by DuckDB ICU exactly as the models compute local_month. */
export async function localMonthBounds(db: Db, month: Month, timeZone: string): Promise<{ start: Date; end: Date }> {
  const next = addMonths(month, 1);
  const row = await db.one<{ s: string; e: string }>(
    `SELECT strftime((CAST($1 AS TIMESTAMP) AT TIME ZONE $3) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS s,
            strftime((CAST($2 AS TIMESTAMP) AT TIME ZONE $3) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS e`,
    [`${month}-01 00:00:00`, `${next}-01 00:00:00`, timeZone],
  );
  return { start: new Date(row!.s), end: new Date(row!.e) };
}

/** The Parquet files directly in `dir`; none when it does not exist. */
export function parquetFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.parquet'))
    .map((f) => join(dir, f));
}

/** The UTC months a customer-local month can touch. */
export const lakeMonths = (month: Month): Month[] => [addMonths(month, -1), month, addMonths(month, 1)];

/** Domains that have partitions in the UTC months a local month can touch. */
export async function lakeDomainsFor(dataDir: string, month: Month): Promise<string[]> {
  const found = new Set<string>();
  const shortNamed: string[] = [];
  for (const m of lakeMonths(month)) {
    const dir = join(cdrsDir(dataDir), `month=${m}`);
    if (!existsSync(dir)) continue;
    for (const e of readdirSync(dir)) {
      if (!e.startsWith('domain=')) continue;
      const name = decodePartitionValue(e.slice('domain='.length));
      if (name !== undefined) found.add(name);
      else shortNamed.push(...parquetFiles(join(dir, e)));
    }
  }
  // A short partition name (lake/partition-path.ts) does not spell the domain: its files do.
  if (shortNamed.length > 0) {
    await withDb(':memory:', async (db) => {
      const rows = await db.all<{ d: string }>(
        `SELECT DISTINCT ${DOMAIN_NAME_COLUMN} AS d FROM read_parquet([${shortNamed.map(sqlString).join(', ')}], union_by_name = true) WHERE ${DOMAIN_NAME_COLUMN} IS NOT NULL`,
      );
      for (const r of rows) found.add(r.d);
    });
  }
  return [...found];
}

/** The lake's rows, distinct ids, seconds and duplicate ids for one domain's window; a damaged file is set aside and reported. */
export async function lakeFigures(db: Db, dataDir: string, domain: string, month: Month, start: Date, end: Date, at: Date) {
  // A domain's rows of a compacted month are in the month's compacted files (lake/compacted-partition.ts).
  const where = lakeMonths(month).map((m) => domainMonthFiles(dataDir, m, domain));
  const own = where.filter((w) => !w.compacted).flatMap((w) => w.files);
  const compacted = where.filter((w) => w.compacted).flatMap((w) => w.files);
  if (own.length === 0 && compacted.length === 0) return { lakeRows: 0, lakeTotal: 0, lakeSeconds: 0, duplicateIds: 0 };
  try {
    return await lakeFiguresOf(db, { own, compacted, domain }, start, end);
  } catch (err) {
    // A footer only DuckDB can find fault with: find the file and set it aside too.
    throw await damagedLakeErrorOr(err, dataDir, at, [...own, ...compacted]);
  }
}

async function lakeFiguresOf(
  db: Db,
  src: { own: readonly string[]; compacted: readonly string[]; domain: string },
  start: Date,
  end: Date,
) {
  const list = (files: readonly string[]) => `[${files.map(sqlString).join(', ')}]`;
  const cols = 'id, duration_s, ingested_at, start_time';
  const parts = [
    ...(src.own.length > 0 ? [`SELECT ${cols} FROM read_parquet(${list(src.own)}, union_by_name = true)`] : []),
    ...(src.compacted.length > 0
      ? [`SELECT ${cols} FROM read_parquet(${list(src.compacted)}, union_by_name = true) WHERE ${DOMAIN_NAME_COLUMN} = $3`]
      : []),
  ];
  const row = await db.one<{ rows: number; ids: number; secs: string | null; dups: number }>(
    `WITH w AS (
       SELECT id, duration_s, ingested_at FROM (${parts.join(' UNION ALL ')})
       WHERE start_time >= $1::TIMESTAMPTZ AND start_time < $2::TIMESTAMPTZ
     ), latest AS (
       SELECT * FROM w QUALIFY row_number() OVER (PARTITION BY id ORDER BY ingested_at DESC NULLS LAST) = 1
     )
     SELECT (SELECT count(*) FROM w)::INTEGER AS rows,
            (SELECT count(*) FROM latest)::INTEGER AS ids,
            (SELECT coalesce(sum(duration_s), 0) FROM latest)::VARCHAR AS secs,
            (SELECT count(*) FROM (SELECT id FROM w GROUP BY id HAVING count(*) > 1))::INTEGER AS dups`,
    src.compacted.length > 0 ? [start.toISOString(), end.toISOString(), src.domain] : [start.toISOString(), end.toISOString()],
  );
  return {
    lakeRows: Number(row?.rows ?? 0),
    lakeTotal: Number(row?.ids ?? 0),
    lakeSeconds: Number(row?.secs ?? 0),
    duplicateIds: Number(row?.dups ?? 0),
  };
}

/** Distinct rejected records of a domain whose fetch window overlaps [start, end). */
export async function rejectCount(db: Db, dataDir: string, domain: string, start: Date, end: Date): Promise<number> {
  const files = parquetFiles(rejectsDir(dataDir));
  if (files.length === 0) return 0;
  const row = await db.one<{ n: number }>(
    `SELECT count(DISTINCT raw_text)::INTEGER AS n FROM read_parquet(${`[${files.map(sqlString).join(', ')}]`}, union_by_name = true)
     WHERE domain = $1 AND window_start < $3::TIMESTAMPTZ AND window_end > $2::TIMESTAMPTZ`,
    [domain, start.toISOString(), end.toISOString()],
  );
  return Number(row?.n ?? 0);
}
