import { sqlString } from '../db/duckdb.ts';
import type { CarrierColumnMap } from './carrier-formats.ts';

/**
 * Rows a partition's writer holds before it writes them out, and so the row groups of the lake files. Small enough that a file of 100k lines already reaches the import's steady
 * memory: peak memory is then the same at any file size.
 */
export const ROWS_PER_FLUSH = 16_384;

/**
 * Why a line of a carrier file is not imported: a short code (a partition value while the file is
 * split, so one scan writes records and rejects at once) and the reason stored with the line.
 */
export const REJECT_REASONS = {
  call_id_empty: 'call id is empty',
  start_time_empty: 'start time is empty',
  start_time_unreadable: 'start time is not a timestamp (ISO 8601, with or without an offset)',
  to_empty: 'destination number is empty',
  seconds_empty: 'billed duration is empty',
  seconds_negative: 'billed duration is negative',
  seconds_not_whole: 'billed duration is not a number of seconds (or minutes, as mapped)',
  cost_empty: 'cost is empty',
  cost_unreadable: 'cost is not a decimal number',
  cost_negative: 'cost is negative',
  currency_invalid: 'currency is not an ISO 4217 code',
  other_month: 'start time is outside the month being imported',
} as const;
export type RejectCode = keyof typeof REJECT_REASONS;
/** Partition values of the rows that are kept, and of unanswered attempts (no start, nothing billed). */
export const OK_KIND = 'ok';
export const SKIP_KIND = 'skip';

export interface CarrierSelectInput {
  /** The file's text with each record's line number in front (see carrier-numbered.ts). */
  numberedFile: string;
  delimiter: string;
  /** Number of columns in the file's header. */
  columnCount: number;
  /** Column index of each mapped field. */
  index: Partial<Record<keyof CarrierColumnMap, number>>;
  /** Not used in the SQL: the importer sets it as the session time zone, which reads timestamps without an offset. */
  timeZone: string;
  currency: string;
  sha256: string;
  fileName: string;
  importedAt: Date;
  /** Lines outside this UTC month are rejected. */
  month?: string;
  /** Names DuckDB keeps the parse errors under (a scan of their own per import). */
  rejectsTable: string;
  rejectsScan: string;
  /** No field of the file needs quoting (FileScan.plainRecords): the raw line is its fields joined. */
  plainRecords?: boolean;
}

const col = (i: number) => `c${i}`;
/** The column holding every field of a line run together (computed once per line, looked at four times). */
const ALL_FIELDS = 'all_fields';

/** A field of a record as written back into CSV: quoted when it holds the delimiter, a quote or a line break. */
function rawField(i: number, delimiter: string): string {
  const c = col(i);
  return `CASE WHEN ${c} IS NULL THEN '' WHEN contains(${c}, ${sqlString(delimiter)}) OR contains(${c}, '"') OR contains(${c}, chr(10)) OR contains(${c}, chr(13)) THEN '"' || replace(${c}, '"', '""') || '"' ELSE ${c} END`;
}

/**
 * The line as read, written back as CSV. Nearly every line has no field to quote: one look at all
 * its fields at once (contains() on their concatenation, no regular expression) lets those lines
 * skip the per-field checks, which otherwise cost more than the rest of the import's SQL.
 */
function rawLineSql(columnCount: number, delimiter: string, plainRecords: boolean): string {
  const cols = Array.from({ length: columnCount }, (_, i) => col(i));
  const d = sqlString(delimiter);
  // concat() reads NULL as '', as the CSV line has it.
  const all = ALL_FIELDS;
  const plain = `concat(${cols.join(`, ${d}, `)})`;
  if (plainRecords) return plain;
  const quoted = cols.map((_, i) => rawField(i, delimiter)).join(` || ${d} || `);
  return `CASE WHEN contains(${all}, ${d}) OR contains(${all}, '"') OR contains(${all}, chr(10)) OR contains(${all}, chr(13)) THEN ${quoted} ELSE ${plain} END`;
}

/**
 * read_csv's read buffer: 4 MiB instead of DuckDB's 32 MiB keeps the read's memory the same for a
 * 7 MB file and a 700 MB one. DuckDB's longest line (2 MiB) is then named: a larger buffer would
 * otherwise let longer lines through. The line number in front of each line gets room of its own.
 */
const CSV_BUFFER_BYTES = 4 << 20;
const MAX_LINE_BYTES = (2 << 20) + 32;

/** The column read_csv gives the line number written in front of each record. */
const SOURCE_LINE = 'source_line';

/**
 * The read_csv call over the numbered copy: the line number, then every column as text; the
 * dialect fixed (no sniffing); parse errors kept aside.
 */
export function readCsvSql(input: CarrierSelectInput): string {
  const columns = [
    `${sqlString(SOURCE_LINE)}: 'BIGINT'`,
    ...Array.from({ length: input.columnCount }, (_, i) => `${sqlString(col(i))}: 'VARCHAR'`),
  ].join(', ');
  return `read_csv(${sqlString(input.numberedFile)}, columns = {${columns}}, auto_detect = false, header = true, delim = ${sqlString(input.delimiter)},
    quote = '"', escape = '"', compression = 'none', encoding = 'utf-8',
    store_rejects = true, rejects_table = ${sqlString(input.rejectsTable)}, rejects_scan = ${sqlString(input.rejectsScan)}, rejects_limit = 0, buffer_size = ${CSV_BUFFER_BYTES}, max_line_size = ${MAX_LINE_BYTES})`;
}

/**
 * One SELECT over the numbered copy of the file, in one parallel pass (no row order needed): typed
 * lake columns, plus `kind` (ok, skip or a reject code) and `month` (UTC month of the start, or
 * 'unknown'). `line_number` is the number written in front of the record: its line in the file.
 */
export function carrierSelectSql(input: CarrierSelectInput): string {
  const { index } = input;
  const field = (name: keyof CarrierColumnMap) => (index[name] === undefined ? 'NULL' : `nullif(trim(${col(index[name])}), '')`);
  const plainRecords = input.plainRecords === true;
  const raw = rawLineSql(input.columnCount, input.delimiter, plainRecords);
  const minutes = index.billedMinutes !== undefined;
  const secsText = minutes ? field('billedMinutes') : field('billedSeconds');
  // Casts, not regular expressions, on the hot path; a minute count is billed up to the second.
  const secsValue = minutes
    ? `CASE WHEN secs_num >= 0 THEN CAST(ceil(secs_num * 60) AS INTEGER) END`
    : `CASE WHEN secs_num >= 0 AND secs_num = trunc(secs_num) THEN CAST(secs_num AS INTEGER) END`;
  // A decimal comma only where it cannot be a thousands separator of a comma-separated file.
  const costFallback =
    input.delimiter === ','
      ? `regexp_replace(cost_text, '^[$€£]\\s*', '')`
      : `regexp_replace(regexp_replace(cost_text, '^[$€£]\\s*', ''), '^(-?[0-9]+),([0-9]+)$', '\\1.\\2')`;
  // The UTC month from the instant's epoch: no time zone lookup per row (the session's zone is the
  // carrier's); infinite stamps (rejected anyway) keep the zone-aware spelling.
  const utcMonth = `CASE WHEN isfinite(start_time) THEN strftime(make_timestamp(epoch_us(start_time)), '%Y-%m') ELSE strftime(start_time AT TIME ZONE 'UTC', '%Y-%m') END`;
  const monthCheck = input.month ? `WHEN ${utcMonth} <> ${sqlString(input.month)} THEN 'other_month'` : '';
  const callIdCheck = index.callId !== undefined ? `WHEN call_id IS NULL THEN 'call_id_empty'` : '';
  return `
WITH src AS (
  SELECT *${plainRecords ? '' : `, concat(${Array.from({ length: input.columnCount }, (_, i) => col(i)).join(', ')}) AS ${ALL_FIELDS}`}
  FROM ${readCsvSql(input)}
), f AS (
  SELECT ${SOURCE_LINE} AS line_no,
    ${field('callId')} AS call_id,
    ${field('startTime')} AS start_text,
    ${index.from === undefined ? 'NULL' : col(index.from)} AS from_number,
    ${field('to')} AS to_number,
    ${secsText} AS secs_text,
    try_cast(${secsText} AS DECIMAL(18,6)) AS secs_num,
    ${field('cost')} AS cost_text,
    upper(${field('currency')}) AS currency_text,
    ${raw} AS raw
  FROM src
), t AS (
  SELECT *,
    try_cast(start_text AS TIMESTAMPTZ) AS start_time,
    ${secsValue} AS billed_seconds,
    coalesce(try_cast(cost_text AS DECIMAL(18,6)), try_cast(${costFallback} AS DECIMAL(18,6))) AS cost,
    coalesce(currency_text, ${sqlString(input.currency)}) AS currency
  FROM f
), v AS (
  SELECT *, CASE
    WHEN start_text IS NULL AND coalesce(billed_seconds, 0) = 0 AND coalesce(cost, 0) = 0
         AND (secs_text IS NULL OR billed_seconds IS NOT NULL) AND (cost_text IS NULL OR cost IS NOT NULL) THEN '${SKIP_KIND}'
    ${callIdCheck}
    WHEN start_text IS NULL THEN 'start_time_empty'
    WHEN start_time IS NULL OR NOT isfinite(start_time) THEN 'start_time_unreadable'
    WHEN to_number IS NULL THEN 'to_empty'
    WHEN secs_text IS NULL THEN 'seconds_empty'
    WHEN secs_num < 0 THEN 'seconds_negative'
    WHEN billed_seconds IS NULL THEN 'seconds_not_whole'
    WHEN cost_text IS NULL THEN 'cost_empty'
    WHEN cost IS NULL THEN 'cost_unreadable'
    WHEN cost < 0 THEN 'cost_negative'
    ${index.currency !== undefined ? `WHEN NOT regexp_full_match(currency, '[A-Z]{3}') THEN 'currency_invalid'` : ''}
    ${monthCheck}
    ELSE '${OK_KIND}' END AS kind
  FROM t
)
SELECT
  coalesce(call_id, ${sqlString(input.sha256.slice(0, 12) + ':')} || CAST(line_no AS VARCHAR)) AS call_id,
  start_time,
  from_number,
  to_number,
  to_e164(to_number) AS to_e164,
  billed_seconds,
  cost,
  currency,
  raw,
  ${sqlString(input.sha256)} AS file_sha256,
  ${sqlString(input.fileName)} AS file_name,
  CAST(line_no AS BIGINT) AS line_number,
  TIMESTAMPTZ ${sqlString(input.importedAt.toISOString())} AS imported_at,
  kind,
  coalesce(${utcMonth}, 'unknown') AS month
FROM v`;
}
