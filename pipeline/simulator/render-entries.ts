/**
 * API page bodies straight from stored entries' bytes.
 */
import { rewriteBodyDatetimes, type DatetimeFormat } from './datetime-format.ts';
import type { CdrEntry } from './cdr-entry.ts';

const OPEN = Buffer.from('[');
const CLOSE = Buffer.from(']');
const COMMA = Buffer.from(',');

/**
 * Serializes a page as the API sends it (UTF-8 JSON array), datetimes in the response's form.
 * Runs of records stored next to each other are copied as one slice.
 */
export function renderEntries(entries: readonly CdrEntry[], format: DatetimeFormat): Buffer {
  const parts: Buffer[] = [OPEN];
  let total = 2;
  let i = 0;
  while (i < entries.length) {
    const first = entries[i]!;
    const buf = first.buf;
    let end = first.off + first.len;
    let j = i + 1;
    while (j < entries.length && entries[j]!.buf === buf && entries[j]!.off === end + 1) {
      end = entries[j]!.off + entries[j]!.len;
      j++;
    }
    if (i > 0) {
      parts.push(COMMA);
      total++;
    }
    parts.push(buf.subarray(first.off, end));
    total += end - first.off;
    i = j;
  }
  parts.push(CLOSE);
  const body = Buffer.concat(parts, total);
  if (format.kind === 'utc-z') return body;
  return Buffer.from(rewriteBodyDatetimes(body.toString('utf8'), format), 'utf8');
}
