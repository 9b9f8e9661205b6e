import { objectArraySpans, splitJsonArray } from '../source/index.ts';

/**
 * The files the ingest spools between fetching a page and merging it into the lake: the page's
 * valid in-window CDRs, each as the exact JSON text the server sent, separated by ASCII RS
 * (0x1E). RS can never occur in JSON text (raw control characters are invalid even inside
 * strings), so DuckDB cuts a file into records with `string_split` instead of parsing the page
 * as a JSON array to find them (read_json_objects): on 1M CDRs that saved 1.3-3.7 CPU-seconds
 * (noisy machine), even with the cast that marks `raw` as JSON.
 *
 * Names: `<seq>.plain.jsonrs` when every record is plain (lake/plain-record.ts; the writer then
 * uses its cheaper SQL), `<seq>.jsonrs` otherwise. `seq` is the run-wide fetch sequence: the
 * higher number wins when an id was fetched twice.
 */

export const RECORD_SEPARATOR = '\u001e';
const RECORD_SEPARATOR_BYTE = 0x1e;
const RS = Buffer.from(RECORD_SEPARATOR);
const EXTENSION = '.jsonrs';
const PLAIN_EXTENSION = `.plain${EXTENSION}`;

export function spoolFileName(seq: number, plain: boolean): string {
  return `${seq}${plain ? PLAIN_EXTENSION : EXTENSION}`;
}

export function isPlainSpoolFile(path: string): boolean {
  return path.endsWith(PLAIN_EXTENSION);
}

export function isSpoolFile(path: string): boolean {
  return path.endsWith(EXTENSION);
}

/** DuckDB regular expression for the fetch sequence in a spool file's path (group 1). */
export const FETCH_SEQ_PATTERN = '(\\d+)(?:\\.plain)?\\.jsonrs$';

/**
 * Byte spans (`[start, end)` of element i at 2i and 2i+1) of the `count` elements of a JSON
 * array of objects, found without parsing: a boundary between two objects is always `}`, `,` and
 * `{` with only whitespace between, so when the body holds exactly count - 1 such triples they
 * are the boundaries. More (a `},{` inside a string) gives undefined: the caller then cuts the
 * body by parsing it (byteSpansByParsing). The caller must know every element is an object (the
 * count of a body with, say, a number among its elements proves nothing).
 */
export function recordBoundaries(bytes: Buffer, count: number): number[] | undefined {
  const spans = objectArraySpans(bytes);
  return spans && spans.length === 2 * count ? spans : undefined;
}

/** The same spans, found by parsing the body element by element (for bodies recordBoundaries cannot cut). */
export function byteSpansByParsing(body: string): number[] | undefined {
  const split = splitJsonArray(body);
  if (!split) return undefined;
  // String indices to UTF-8 byte offsets, counting only the text between consecutive spans.
  const out: number[] = [];
  let charPos = 0;
  let bytePos = 0;
  for (const i of split.spans) {
    bytePos += Buffer.byteLength(body.slice(charPos, i), 'utf8');
    charPos = i;
    out.push(bytePos);
  }
  return out;
}

/**
 * The spool file for the elements `keep` (indexes, ascending) of a body whose element byte
 * spans are `spans`: each element's own bytes, RS between them. When every element is kept and
 * each pair is separated by a lone comma (a minified page, the usual case), the commas are
 * overwritten with RS in `bytes` itself and no copy is made.
 */
export function encodeRecords(bytes: Buffer, spans: readonly number[], keep: readonly number[]): Buffer {
  const n = spans.length / 2;
  let inPlace = keep.length === n;
  for (let i = 0; inPlace && i < n - 1; i++) inPlace = spans[2 * i + 2]! - spans[2 * i + 1]! === 1;
  if (inPlace) {
    for (let i = 0; i < n - 1; i++) bytes[spans[2 * i + 1]!] = RECORD_SEPARATOR_BYTE;
    return bytes.subarray(spans[0], spans[2 * n - 1]);
  }
  const parts: Buffer[] = [];
  for (const i of keep) {
    if (parts.length > 0) parts.push(RS);
    parts.push(bytes.subarray(spans[2 * i], spans[2 * i + 1]));
  }
  return Buffer.concat(parts);
}

/** Spool bytes for records known only as parsed values (a body that could not be cut into elements): re-serialised. */
export function encodeValues(records: readonly unknown[]): Buffer {
  return Buffer.from(records.map((r) => JSON.stringify(r)).join(RECORD_SEPARATOR), 'utf8');
}
