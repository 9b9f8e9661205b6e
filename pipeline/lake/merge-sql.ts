import { sqlString, type Db } from '../db/duckdb.ts';
import type { TimeWindow } from '../source/index.ts';
import { DOMAIN_NAME_COLUMN } from './layout.ts';
import { encodePartitionValue, isShortPartitionValue } from './partition-path.ts';
import { FETCH_SEQ_PATTERN, isPlainSpoolFile } from './spool-format.ts';
import { cdrRowsSql, lakeColumn, lakeColumnSql } from './row-sql.ts';
import { fillSql, lakeSql } from './sql-files.ts';

/** SQL text of a partition merge: builders only (plus `copyCount`, which runs a COPY). */

export const macrosSql = lakeSql('cdr-macros.sql');
const rowsSql = cdrRowsSql('general');
const plainRowsSql = cdrRowsSql('plain');

/**
 * Keeps the copy of an id fetched last (highest spool sequence number). Ids compare as the lake
 * stores them (`cdr_id`, the same rule as source/cdr-id.ts): ' 0123 ' and '0123' are one CDR.
 */
const ROW_ID = lakeColumnSql(lakeColumn('id'), 'general');
const DEDUP_CLAUSE = `QUALIFY row_number() OVER (PARTITION BY ${ROW_ID} ORDER BY fetch_seq DESC) = 1`;
/** The spool file's sequence number: the later fetch of an id wins. */
const FETCH_SEQ = `CAST(regexp_extract(filename, ${sqlString(FETCH_SEQ_PATTERN)}, 1) AS BIGINT)`;
const withoutSeq = (rows: string) => `SELECT * EXCLUDE (fetch_seq) FROM (${rows})`;
/**
 * Row groups by size, not count: raw JSON makes 122 880-row groups hundreds of MB in memory.
 * 8 MB (~5k CDRs): a partition write buffers one row group per lane, so this is the part of an
 * ingest's peak that grows with partitions up to that size (one lane writing 38k rows: +90 MiB RSS
 * at 16 MB, +60 at 8 MB, +52 at 4 MB).
 * ZSTD level 1: on the raw column it is faster than the default level 3 and, measured on
 * simulated pages, no larger (18.8 vs 19.6 MiB for 200k CDRs).
 */
export const PARQUET_OPTIONS = `FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, ROW_GROUP_SIZE_BYTES '8MB'`;

/** What the rows of fetched pages are selected by. */
export interface FetchedRowsInput {
  /** Spool files to read (never empty: a write without pages reads the writer's empty page). */
  files: readonly string[];
  domain: string;
  range: TimeWindow;
  ingestedAt: Date;
  /** Ids that occur more than once in `files`; undefined: unknown, de-duplicate every row. */
  duplicateIds?: readonly string[];
}

/** SELECT of the lake rows the spooled pages hold for the range, one row per id (the latest fetch). */
export function selectFetchedRows(f: FetchedRowsInput): string {
  // The plain SQL only when every file says its records are plain (the general SQL gives the same rows, slower).
  const sql = f.files.every(isPlainSpoolFile) ? plainRowsSql : rowsSql;
  const rowsWith = (filter: string, dedup: boolean) =>
    withoutSeq(
      fillSql(sql, {
        files: `[${f.files.map(sqlString).join(', ')}]`,
        domain: sqlString(f.domain),
        ingested_at: sqlString(f.ingestedAt.toISOString()),
        range_start: sqlString(f.range.start.toISOString()),
        range_end: sqlString(f.range.end.toISOString()),
        dedup: (filter ? `  AND ${filter}\n` : '') + (dedup ? DEDUP_CLAUSE : ''),
        fetch_seq: dedup ? FETCH_SEQ : 'NULL::BIGINT',
        join: '',
        part: '',
      }),
    );
  const dups = f.duplicateIds;
  if (dups === undefined) return rowsWith('', true);
  if (dups.length === 0) return rowsWith('', false);
  // Only the few ids that came twice pay for the window function.
  const dupList = `[${dups.map(sqlString).join(', ')}]`;
  return `${rowsWith(`NOT list_contains(${dupList}, ${ROW_ID})`, false)} UNION ALL BY NAME ${rowsWith(`list_contains(${dupList}, ${ROW_ID})`, true)}`;
}

/** What the rows of a batch of partitions' spool files are selected by (lake/batch-write.ts). */
export interface BatchRowsInput {
  /** Every spool file of the batch (a file without a row in `filesTable` is read and dropped). */
  files: readonly string[];
  /** Temp table (part, file, domain, range_start, range_end, ingested_at): each file's partition. */
  filesTable: string;
  /** The partition number's column, in the table and in the rows selected. */
  part: string;
  /** De-duplicate every partition's rows by id (false: no id came twice). */
  dedup: boolean;
}

/** SELECT of the lake rows of a batch's spool files, each with its partition's number, one row per (partition, id). */
export function batchRowsSql(b: BatchRowsInput): string {
  const sql = b.files.every(isPlainSpoolFile) ? plainRowsSql : rowsSql;
  return withoutSeq(
    fillSql(sql, {
      files: `[${b.files.map(sqlString).join(', ')}]`,
      domain: 'm.domain',
      ingested_at: 'm.ingested_at',
      range_start: 'm.range_start',
      range_end: 'm.range_end',
      dedup: b.dedup ? `QUALIFY row_number() OVER (PARTITION BY m.${b.part}, ${ROW_ID} ORDER BY fetch_seq DESC) = 1` : '',
      fetch_seq: b.dedup ? FETCH_SEQ : 'NULL::BIGINT',
      join: ` b JOIN ${b.filesTable} m ON m.file = b.filename`,
      part: `m.${b.part} AS ${b.part},
  `,
    }),
  );
}

/** SQL true for a row whose `column` lies in `range`. */
export function inRangeCondition(range: TimeWindow, column: string): string {
  return `${column} >= ${sqlString(range.start.toISOString())}::TIMESTAMPTZ AND ${column} < ${sqlString(range.end.toISOString())}::TIMESTAMPTZ`;
}

/** SQL true for a row whose `column` lies in one of `ranges` (false for none). */
export function pruneCondition(ranges: readonly TimeWindow[], column: string): string {
  if (ranges.length === 0) return 'false';
  return ranges.map((r) => `(${inRangeCondition(r, column)})`).join(' OR ');
}

/** The relations and conditions a merge into an existing partition file compares. */
export interface MergeParts {
  /** The staged fetched rows. */
  fresh: string;
  /** The stored partition file. */
  old: string;
  /** Stored row `o` whose id was not fetched. */
  notFresh: string;
  /** Stored row `o` that lies in a pruned range. */
  pruned: string;
}

/** Relations and conditions of a merge of staged rows (a parquet file) into a stored partition file (or the stored rows `oldRows`). */
export function mergeParts(staging: string, target: string, prune: readonly TimeWindow[], oldRows?: string): MergeParts {
  const fresh = `read_parquet(${sqlString(staging)})`;
  return {
    fresh,
    // oldRows: the domain's rows of a compacted month (lake/compacted-partition.ts), when it has no file of its own yet.
    old: oldRows ?? `read_parquet(${sqlString(target)}, hive_partitioning = false)`,
    // coalesce: a stored row without a start time (or id) is never in a pruned range, and is kept.
    notFresh: `coalesce(o.id NOT IN (SELECT id FROM ${fresh}), true)`,
    pruned: `coalesce(${pruneCondition(prune, 'o.start_time')}, false)`,
  };
}

/**
 * One row: fresh rows not stored exactly as they are (new or changed: compared by a hash of
 * (id, raw)), stored rows of the range the answer lacks, of those the ones to remove, and all
 * stored rows.
 */
export function compareSql(m: MergeParts, range: TimeWindow): string {
  return `
        SELECT
          (SELECT count(*) FROM (SELECT hash(id, raw::VARCHAR) AS h FROM ${m.fresh}) f
             WHERE f.h NOT IN (SELECT hash(id, raw::VARCHAR) FROM ${m.old})) AS changed,
          (SELECT count(*) FROM ${m.old} o WHERE ${inRangeCondition(range, 'o.start_time')} AND ${m.notFresh} AND NOT ${m.pruned}) AS not_listed,
          (SELECT count(*) FROM ${m.old} o WHERE ${m.notFresh} AND ${m.pruned}) AS to_remove,
          (SELECT count(*) FROM ${m.old}) AS n_total`;
}

/** The stored rows a merge removes, stamped with when. */
export function removedRowsSql(m: MergeParts, at: Date): string {
  return `SELECT o.*, ${sqlString(at.toISOString())}::TIMESTAMPTZ AS removed_at FROM ${m.old} o WHERE ${m.notFresh} AND ${m.pruned}`;
}

/** The partition after the merge: every fresh row, and the stored rows neither fetched again nor removed. */
export function mergedRowsSql(m: MergeParts): string {
  return `
          SELECT * FROM ${m.fresh}
          UNION ALL BY NAME
          SELECT o.* FROM ${m.old} o
          WHERE ${m.notFresh} AND NOT ${m.pruned}`;
}

/**
 * Partition files hold no `domain` column: the value lives in the path (`domain=<encoded>`), as in
 * files written by Hive, Spark or DuckDB's PARTITION_BY. Readers that refuse a column that is both
 * in the path and in the file (DataFusion, older Polars) then read the lake as it is, and every
 * hive-aware reader gets the one decoded value from the path. (Files written before this carry the
 * column; the next merge of their partition drops it.) Files under a short partition name also
 * hold `domain_name`, the full name the path cannot spell.
 */
export function withoutPartitionColumns(select: string, domain: string): string {
  // A short partition name (partition-path.ts) cannot be decoded: its files carry the full name.
  const fullName = isShortPartitionValue(encodePartitionValue(domain)) ? `, ${sqlString(domain)}::VARCHAR AS ${DOMAIN_NAME_COLUMN}` : '';
  return `SELECT COLUMNS(c -> c NOT IN ('domain', ${sqlString(DOMAIN_NAME_COLUMN)}))${fullName} FROM (${select})`;
}

/** Runs a COPY and returns the row count DuckDB reports for it. */
export async function copyCount(db: Db, sql: string): Promise<number> {
  const rows = await db.all(sql);
  const first = rows[0];
  return first ? Number(Object.values(first)[0]) : 0;
}
