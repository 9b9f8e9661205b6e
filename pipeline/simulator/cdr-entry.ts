/**
 * A stored CDR entry and its bytes: the records of a generated day share one off-heap buffer.
 */

/** `call-direction` codes (inferred from live servers). */
export const CALL_DIRECTION = { outbound: 0, inbound: 1, missed: 2, internal: 3 } as const;
export type CallDirectionName = keyof typeof CALL_DIRECTION;

/** One stored CDR: the serialized record plus what queries need without parsing it. */
export interface CdrEntry {
  id: string;
  /** call-start-datetime, epoch ms. */
  startMs: number;
  /** call-disconnect-datetime, epoch ms: a generated record becomes visible when the call has ended. */
  endMs: number;
  /** call-total-duration-seconds as a number (the record may carry it as a numeric string). */
  seconds: number;
  direction: number;
  /**
   * The record as UTF-8 JSON with canonical `...Z` datetimes: `buf[off, off + len)`. The records
   * of a generated day share one off-heap buffer, in order and separated by commas, so a page of
   * consecutive records is a single slice and a large cache costs the garbage collector nothing.
   */
  buf: Buffer;
  off: number;
  len: number;
  /** Fixed uniform draws deciding whether this record arrives late / is updated later (faults). */
  lateU: number;
  updateU: number;
  /** Injected records: when they become visible (undefined: always). */
  visibleAtMs?: number;
  generated: boolean;
}

/** The buffer of an entry whose bytes are not packed yet. */
export const EMPTY_BUFFER = Buffer.alloc(0);
let scratch = Buffer.allocUnsafeSlow(1 << 20);

/** Writes a day's records into one exact-size buffer, `rec,rec,rec`, and points each entry at its bytes. */
export function packDay(entries: CdrEntry[], jsons: string[]): void {
  let chars = 0;
  for (const j of jsons) chars += j.length + 1;
  // UTF-8 needs at most 3 bytes per UTF-16 code unit.
  if (scratch.length < chars * 3) scratch = Buffer.allocUnsafeSlow(chars * 3);
  let at = 0;
  for (let i = 0; i < jsons.length; i++) {
    if (i > 0) scratch[at++] = 0x2c;
    const n = scratch.write(jsons[i]!, at, 'utf8');
    entries[i]!.off = at;
    entries[i]!.len = n;
    at += n;
  }
  const buf = Buffer.allocUnsafeSlow(at);
  scratch.copy(buf, 0, 0, at);
  for (const e of entries) e.buf = buf;
}

/** A record's JSON text. */
export function entryJson(e: CdrEntry): string {
  return e.buf.toString('utf8', e.off, e.off + e.len);
}

/** An entry holding `json` in its own buffer (injected and corrected records). */
export function withJson(e: CdrEntry, json: string): CdrEntry {
  const buf = Buffer.from(json, 'utf8');
  return { ...e, buf, off: 0, len: buf.length };
}
