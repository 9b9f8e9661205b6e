import { BodyShapeError } from './source-errors.ts';
import { validateCdr } from './cdr-record.ts';
import { objectArraySpans, splitJsonArray } from './json-array-split.ts';
import type { CdrPage, ParsedCdr, RejectedRecord, TimeWindow } from './types.ts';

export interface PageContext {
  domain: string;
  window: TimeWindow;
  offset: number;
  limit: number;
  /** Zone for bare `YYYY-MM-DD HH:MM:SS` datetimes; default UTC. */
  bareZone?: string | undefined;
}

/**
 * Turns a `/domains/{d}/cdrs` body into a page: every element is either a record in the window,
 * a record of another window (counted in `outOfWindow`) or a reject with its reason and raw text.
 * A body that is not a JSON array throws BodyShapeError (the transport retries it).
 */
export function parseCdrPage(body: string, ctx: PageContext): CdrPage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    throw new BodyShapeError(`CDR page is not valid JSON (${body.length} characters; truncated?): ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) {
    throw new BodyShapeError(`CDR page is ${parsed === null ? 'null' : `a JSON ${typeof parsed}`}, not an array`);
  }
  const elements: unknown[] = parsed;
  // Rejects keep their text as sent too; cutting the body into elements costs a second parse, paid only here.
  let split: ReturnType<typeof splitJsonArray> | null = null;
  const rawText = (index: number) => {
    split ??= splitJsonArray(body);
    return split
      ? body.slice(split.spans[2 * index], split.spans[2 * index + 1])
      : (JSON.stringify(elements[index]) ?? String(elements[index]));
  };
  const page = sortElements(elements, ctx, hasSurrogateEscape(body), rawText);
  return { ...page, body };
}

/**
 * The same page from the body's bytes as received (UTF-8), without decoding the body into one
 * string: each element is cut out at its `}`,`{` boundary (json-array-split.ts objectArraySpans)
 * and parsed on its own. Small strings cost a fraction of what one string of a whole page does
 * (a page of 1,000 CDRs is ~1.7 MB; with one non-ASCII character it decodes to 3.4 MB of UTF-16,
 * and decoding, not parsing, was most of a page's CPU). The page keeps `bytes` and `spans`, so
 * the spool writes each record's bytes without encoding anything again; `body` is decoded only
 * when something reads it. A body that does not cut cleanly (a `},{` inside a string, an element
 * that is not an object, JSON that does not parse) takes parseCdrPage, with the same verdicts.
 */
export function parseCdrPageBytes(bytes: Buffer, ctx: PageContext): CdrPage {
  const spans = objectArraySpans(bytes);
  const elements = spans && parseEach(bytes, spans);
  if (!spans || !elements) return parseCdrPage(bytes.toString('utf8'), ctx);
  const page = sortElements(elements.values, ctx, elements.surrogateEscapes, (i) => bytes.toString('utf8', spans[2 * i], spans[2 * i + 1]));
  let body: string | undefined;
  return {
    ...page,
    bytes,
    spans,
    get body() {
      body ??= bytes.toString('utf8');
      return body;
    },
  };
}

/** Each span of `bytes` parsed on its own; undefined when one does not parse as an object. */
function parseEach(bytes: Buffer, spans: readonly number[]): { values: unknown[]; surrogateEscapes: boolean } | undefined {
  const values: unknown[] = new Array(spans.length / 2);
  let surrogateEscapes = false;
  for (let i = 0; i < values.length; i++) {
    const text = bytes.toString('utf8', spans[2 * i], spans[2 * i + 1]);
    try {
      values[i] = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (!surrogateEscapes && hasSurrogateEscape(text)) surrogateEscapes = true;
  }
  return { values, surrogateEscapes };
}

/** A page's elements sorted into records in the window, records of other windows and rejects. */
function sortElements(
  elements: readonly unknown[],
  ctx: PageContext,
  mayHaveLoneSurrogates: boolean,
  rawText: (index: number) => string,
): Omit<CdrPage, 'body'> {
  const startMs = ctx.window.start.getTime();
  const endMs = ctx.window.end.getTime();
  const records: Record<string, unknown>[] = [];
  const recordIndexes: number[] = [];
  const cdrs: ParsedCdr[] = [];
  const rejects: RejectedRecord[] = [];
  let outOfWindow = 0;
  let elementsAreObjects = true;
  for (let i = 0; i < elements.length; i++) {
    const element: unknown = elements[i];
    if (element === null || typeof element !== 'object' || Array.isArray(element)) elementsAreObjects = false;
    const verdict = mayHaveLoneSurrogates && hasLoneSurrogate(element) ? LONE_SURROGATE_VERDICT : validateCdr(element, ctx.bareZone);
    if (!verdict.ok) {
      rejects.push({ domain: ctx.domain, reason: verdict.reason, rawText: rawText(i) });
      continue;
    }
    const t = verdict.cdr.startTime.getTime();
    if (t < startMs || t >= endMs) {
      outOfWindow++;
      continue;
    }
    records.push(verdict.cdr.raw);
    recordIndexes.push(i);
    cdrs.push(verdict.cdr);
  }
  return {
    domain: ctx.domain,
    window: ctx.window,
    offset: ctx.offset,
    limit: ctx.limit,
    received: elements.length,
    records,
    recordIndexes,
    elementsAreObjects,
    rejects,
    outOfWindow,
    cdrs,
  };
}

/**
 * Whether the body spells a surrogate escape (`\uD800`-`\uDFFF`; rare): only then are its records
 * searched for unpaired ones. indexOf, not a regular expression: this runs on every page, and
 * the regular expression took 0.7 µs per CDR against 0.1.
 */
function hasSurrogateEscape(body: string): boolean {
  for (let i = body.indexOf('\\u'); i >= 0; i = body.indexOf('\\u', i + 2)) {
    if ((body.charCodeAt(i + 2) | 0x20) !== 0x64) continue; // d or D
    const c = body.charCodeAt(i + 3) | 0x20;
    if (c === 0x38 || c === 0x39 || (c >= 0x61 && c <= 0x66)) return true; // 8, 9, a-f
  }
  return false;
}
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATE_VERDICT = {
  ok: false,
  reason: 'holds a \\u escape of half a UTF-16 surrogate pair (not text; the lake cannot store it as JSON)',
} as const;

/**
 * JSON.parse accepts `"\ud800"` (half of a surrogate pair), DuckDB refuses the record: kept,
 * it would fail its whole partition's write on every run. So it is a reject instead.
 */
function hasLoneSurrogate(v: unknown): boolean {
  if (typeof v === 'string') return LONE_SURROGATE.test(v);
  if (Array.isArray(v)) return v.some(hasLoneSurrogate);
  if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) if (LONE_SURROGATE.test(k) || hasLoneSurrogate(x)) return true;
  }
  return false;
}
