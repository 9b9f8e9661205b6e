/** The elements of a JSON array of objects, each parsed, with where its exact text lies in the body. */
export interface SplitArray {
  values: unknown[];
  /** `[start, end)` of element i in the body (string indices) at 2i and 2i+1. */
  spans: number[];
}

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * Splits a JSON array whose elements are all objects into its elements, keeping where each one
 * lies in `body`, so the lake can store every record byte for byte as the server sent it.
 *
 * A candidate boundary is a `}` followed by `,` and `{` (JSON whitespace allowed around the
 * comma). The text up to a candidate is accepted only when it parses on its own: a prefix that
 * ends inside a string, or inside a nested object or array, is never valid JSON, so a `},{`
 * within a string or a nested value cannot cut a record. Each record is parsed once here (about
 * what parsing the whole body costs), plus an indexOf scan for `}`.
 *
 * Returns undefined when the body is not an array of objects (not JSON at all, an element that
 * is not an object, a trailing comma...): the caller then parses it whole and words what is wrong.
 */
export function splitJsonArray(body: string): SplitArray | undefined {
  let open = 0;
  while (open < body.length && isSpace(body.charCodeAt(open))) open++;
  let close = body.length - 1;
  while (close >= 0 && isSpace(body.charCodeAt(close))) close--;
  if (open >= close || body.charCodeAt(open) !== 0x5b || body.charCodeAt(close) !== 0x5d) return undefined;
  let first = open + 1;
  while (first < close && isSpace(body.charCodeAt(first))) first++;
  const out: SplitArray = { values: [], spans: [] };
  if (first === close) return out; // []
  let last = close - 1;
  while (last > first && isSpace(body.charCodeAt(last))) last--;
  if (body.charCodeAt(first) !== 0x7b || body.charCodeAt(last) !== 0x7d) return undefined;

  let start = first;
  let from = first;
  for (;;) {
    const brace = body.indexOf('}', from);
    if (brace < 0 || brace > last) return undefined;
    from = brace + 1;
    let next = -1; // where the following element starts, if this `}` may end the current one
    if (brace === last) {
      next = close;
    } else {
      let k = brace + 1;
      while (isSpace(body.charCodeAt(k))) k++;
      if (body.charCodeAt(k) === 0x2c) {
        k++;
        while (isSpace(body.charCodeAt(k))) k++;
        if (body.charCodeAt(k) === 0x7b) next = k;
      }
    }
    if (next < 0) continue;
    let value: unknown;
    try {
      value = JSON.parse(body.slice(start, brace + 1));
    } catch {
      if (brace === last) return undefined;
      continue; // the `}` was inside a string or a nested value: look further
    }
    out.values.push(value);
    out.spans.push(start, brace + 1);
    if (brace === last) return out;
    start = next;
    from = next;
  }
}

/**
 * Byte spans (`[start, end)` of element i at 2i and 2i+1) of the elements of a UTF-8 JSON array
 * of objects, cut at every `}` `,` `{` (whitespace allowed between) without parsing. Every such
 * triple is taken for a boundary, so a `},{` inside a string or a nested value cuts a record in
 * two: the caller must parse each piece, and a piece that does not parse on its own means the cut
 * is wrong (a prefix ending inside a string or a nested value is never valid JSON). Undefined
 * when the body is not `[`, objects, `]` at all.
 */
export function objectArraySpans(bytes: Uint8Array): number[] | undefined {
  let first = 0;
  while (isSpace(bytes[first]!)) first++;
  let last = bytes.length - 1;
  while (last >= 0 && isSpace(bytes[last]!)) last--;
  if (bytes[first] !== 0x5b || bytes[last] !== 0x5d || first >= last) return undefined;
  first++;
  last--;
  while (first <= last && isSpace(bytes[first]!)) first++;
  while (last >= first && isSpace(bytes[last]!)) last--;
  if (first > last) return [];
  if (bytes[first] !== 0x7b || bytes[last] !== 0x7d) return undefined;
  const spans = [first];
  for (let brace = bytes.indexOf(0x7d, first); brace >= 0 && brace < last; brace = bytes.indexOf(0x7d, brace + 1)) {
    let k = brace + 1;
    while (isSpace(bytes[k]!)) k++;
    if (bytes[k] !== 0x2c) continue;
    k++;
    while (isSpace(bytes[k]!)) k++;
    if (bytes[k] !== 0x7b) continue;
    spans.push(brace + 1, k);
  }
  spans.push(last + 1);
  return spans;
}
