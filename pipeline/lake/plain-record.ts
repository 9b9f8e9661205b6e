/**
 * Which spooled pages the lake writer may load with its plain row SQL. Most records arrive in
 * one spelling: ids and names without padding, counts as JSON numbers, ISO datetimes. For those,
 * lake/sql/cdr-rows-plain.sql lets from_json cast each field to its type, which DuckDB plans in a
 * third of the time of the general cdr-rows.sql (whose helper macros handle every spelling the
 * API uses) and runs faster too. The ingest checks each page's records here, where they are
 * parsed anyway, and says so in the spool file's name (`<seq>.plain.json`); the writer uses the
 * plain SQL only when every file of a write is plain.
 */

const PLAIN_SUFFIX = '.plain.json';

/** A spool file's name: `<seq>.json`, or `<seq>.plain.json` when every record in it is plain. */
export function spoolFileName(seq: number, plain: boolean): string {
  return plain ? `${seq}${PLAIN_SUFFIX}` : `${seq}.json`;
}

export function isPlainSpoolFile(path: string): boolean {
  return path.endsWith(PLAIN_SUFFIX);
}

/** Fields the lake types as text: `''` becomes NULL; surrounding spaces are trimmed. */
export const TEXT_FIELDS = [
  'id', 'reseller',
  'call-orig-user', 'call-term-user', 'call-orig-caller-id', 'call-orig-from-user', 'call-orig-to-user', 'call-orig-request-user',
  'call-orig-from-name', 'call-orig-domain', 'call-orig-site', 'call-orig-department',
  'call-term-domain', 'call-term-site', 'call-term-department', 'call-term-caller-id',
  'call-account-code', 'call-disconnect-reason-text',
  'call-orig-call-id', 'call-term-call-id', 'call-parent-call-id', 'call-parent-cdr-id',
] as const;
/** Fields the lake types as INTEGER (call-direction, typed from its text in both SQL files, is not one). */
export const INTEGER_FIELDS = ['call-total-duration-seconds', 'call-talking-duration-seconds', 'call-on-hold-duration-seconds', 'call-leg-ordinal-index'] as const;
/** Fields the lake types as TIMESTAMPTZ. */
export const DATETIME_FIELDS = ['call-start-datetime', 'call-answer-datetime', 'call-disconnect-datetime', 'call-ringing-datetime'] as const;

/** ISO datetimes DuckDB casts to TIMESTAMPTZ itself (bare ones in the writer's UTC session). */
const CASTABLE_DATETIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})?$/;
const INT32_MAX = 2 ** 31 - 1;

/**
 * True when the lake's plain row SQL (lake/sql/cdr-rows-plain.sql: from_json casts each field to
 * its type, `''` becomes NULL) gives exactly the row the general SQL (cdr-rows.sql: trims,
 * integers from text, every datetime spelling) gives for this record:
 * - text fields hold no string that starts or ends with a space;
 * - integer fields are JSON numbers with an integer value in INTEGER range, or null;
 * - datetime fields are null, `''`, or ISO text DuckDB casts (`2026-10-01T12:00:00Z`,
 *   `...+02:00`, `2026-10-01 12:00:00`).
 * Anything else (numbers as text, zones in brackets, padded ids) takes the general SQL.
 * test/lake/row-sql.test.ts holds the two SQL files to the same rows on plain records.
 */
export function isPlainRecord(r: Readonly<Record<string, unknown>>): boolean {
  for (const f of TEXT_FIELDS) {
    const v = r[f];
    if (typeof v === 'string' && v.length > 0 && (v.charCodeAt(0) === 0x20 || v.charCodeAt(v.length - 1) === 0x20)) return false;
  }
  for (const f of INTEGER_FIELDS) {
    const v = r[f];
    if (v === null || v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v > INT32_MAX || v < -INT32_MAX - 1) return false;
  }
  for (const f of DATETIME_FIELDS) {
    const v = r[f];
    if (v === null || v === undefined || v === '') continue;
    if (typeof v !== 'string' || !CASTABLE_DATETIME.test(v)) return false;
  }
  return true;
}
