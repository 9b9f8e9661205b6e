/**
 * Which records the lake writer may load with its plain row SQL. Most records arrive in one
 * spelling: ids and names without padding, counts as JSON numbers or digits, ISO datetimes. For
 * those, the plain row SQL (lake/row-sql.ts) lets from_json cast each field to its type, which DuckDB
 * plans in a third of the time of the general form (whose helper macros handle every
 * spelling the API uses) and runs faster too. The ingest checks each page's records here, where
 * they are parsed anyway, and the spool file's name says so (lake/spool-format.ts).
 */

import { normalizeCdrId } from '../source/index.ts';
import { LAKE_DATETIME_FIELDS, LAKE_INTEGER_FIELDS, LAKE_TEXT_FIELDS } from './lake-columns.ts';

/** Fields the lake types as text: `''` becomes NULL; surrounding spaces are trimmed. */
export const TEXT_FIELDS = LAKE_TEXT_FIELDS;
/** Fields the lake types as INTEGER (call-direction, typed from its text in both forms, is not one). */
export const INTEGER_FIELDS = LAKE_INTEGER_FIELDS;
/** Fields the lake types as TIMESTAMPTZ. */
export const DATETIME_FIELDS = LAKE_DATETIME_FIELDS;

/** ISO datetimes DuckDB casts to TIMESTAMPTZ itself (bare ones in the writer's UTC session). */
const CASTABLE_DATETIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})?$/;
/** Whole numbers as text that fit an INTEGER (the API sends counts as "0" now and then). */
const CASTABLE_INTEGER = /^-?\d{1,9}$/;
const INT32_MAX = 2 ** 31 - 1;

/** An id the lake would store differently (lake/sql/cdr-macros.sql cdr_id trims every kind of white space). */
const unnormalizedId = (v: unknown) => typeof v === 'string' && v !== '' && normalizeCdrId(v) !== v;
const paddedText = (v: unknown) =>
  typeof v === 'string' && v.length > 0 && (v.charCodeAt(0) === 0x20 || v.charCodeAt(v.length - 1) === 0x20);
const oddInteger = (v: unknown) =>
  v !== null &&
  v !== undefined &&
  (typeof v === 'number'
    ? !Number.isInteger(v) || v > INT32_MAX || v < -INT32_MAX - 1
    : typeof v !== 'string' || !CASTABLE_INTEGER.test(v));
const oddDatetime = (v: unknown) => v !== null && v !== undefined && v !== '' && (typeof v !== 'string' || !CASTABLE_DATETIME.test(v));

/**
 * True when the lake's plain row SQL (lake/row-sql.ts, plain: from_json casts each field to
 * its type, `''` becomes NULL) gives exactly the row the general SQL (trims,
 * integers from text, every datetime spelling) gives for this record:
 * - the id is as the lake stores it (source/cdr-id.ts: no white space of any kind at either end);
 * - other text fields hold no string that starts or ends with a space;
 * - integer fields are null, JSON numbers with an integer value in INTEGER range, or digits as
 *   text (`"0"`, `"-12"`, at most 9 digits);
 * - datetime fields are null, `''`, or ISO text DuckDB casts (`2026-10-01T12:00:00Z`,
 *   `...+02:00`, `2026-10-01 12:00:00`).
 * Anything else (padded ids, decimals as text, zones in brackets) takes the general SQL.
 * test/lake/row-sql.test.ts holds the two SQL files to the same rows on plain records, and this
 * function to every field of the lists above.
 *
 * Each field is read by name, not by looping over the lists: a loop's one access site sees 30
 * keys and costs ~1.5 µs per record, named reads ~0.5 µs (the ingest checks every record).
 */
export function isPlainRecord(r: Readonly<Record<string, unknown>>): boolean {
  return !(
    unnormalizedId(r['id']) ||
    paddedText(r['reseller']) ||
    paddedText(r['call-orig-user']) ||
    paddedText(r['call-term-user']) ||
    paddedText(r['call-orig-caller-id']) ||
    paddedText(r['call-orig-from-user']) ||
    paddedText(r['call-orig-to-user']) ||
    paddedText(r['call-orig-request-user']) ||
    paddedText(r['call-orig-from-name']) ||
    paddedText(r['call-orig-domain']) ||
    paddedText(r['call-orig-site']) ||
    paddedText(r['call-orig-department']) ||
    paddedText(r['call-term-domain']) ||
    paddedText(r['call-term-site']) ||
    paddedText(r['call-term-department']) ||
    paddedText(r['call-term-caller-id']) ||
    paddedText(r['call-account-code']) ||
    paddedText(r['call-disconnect-reason-text']) ||
    paddedText(r['call-orig-call-id']) ||
    paddedText(r['call-term-call-id']) ||
    paddedText(r['call-parent-call-id']) ||
    paddedText(r['call-parent-cdr-id']) ||
    oddInteger(r['call-total-duration-seconds']) ||
    oddInteger(r['call-talking-duration-seconds']) ||
    oddInteger(r['call-on-hold-duration-seconds']) ||
    oddInteger(r['call-leg-ordinal-index']) ||
    oddDatetime(r['call-start-datetime']) ||
    oddDatetime(r['call-answer-datetime']) ||
    oddDatetime(r['call-disconnect-datetime']) ||
    oddDatetime(r['call-ringing-datetime'])
  );
}
