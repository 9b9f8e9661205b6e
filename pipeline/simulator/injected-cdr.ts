/**
 * Records injected by tests, turned into stored entries.
 */
import { formatCanonical, parseApiDatetime } from './datetime-format.ts';
import { withJson, type CdrEntry } from './cdr-entry.ts';

/**
 * Turns an injected record into a stored entry: datetimes of any accepted form are normalized
 * to the canonical `Z` form, everything else is kept exactly as given.
 */
export function toEntry(record: Record<string, unknown>, visibleAtMs?: number): CdrEntry {
  const rec: Record<string, unknown> = { ...record };
  const idRaw = rec.id;
  if ((typeof idRaw !== 'string' && typeof idRaw !== 'number') || String(idRaw) === '') {
    throw new Error(`injected CDR needs a non-empty "id" (got ${JSON.stringify(idRaw)})`);
  }
  for (const [k, v] of Object.entries(rec)) {
    if (k.endsWith('datetime') && typeof v === 'string' && v !== '') {
      const p = parseApiDatetime(v);
      if (!p)
        throw new Error(
          `injected CDR ${String(idRaw)}: ${k} ${JSON.stringify(v)} is not a datetime the API accepts (e.g. 2026-11-27T13:00:00Z)`,
        );
      rec[k] = formatCanonical(p.epochMs);
    }
  }
  const start = rec['call-start-datetime'];
  if (typeof start !== 'string') throw new Error(`injected CDR ${String(idRaw)} needs "call-start-datetime"`);
  const startMs = Date.parse(start);
  const seconds = Number(rec['call-total-duration-seconds'] ?? 0) || 0;
  const end = rec['call-disconnect-datetime'];
  const endMs = typeof end === 'string' ? Date.parse(end) : startMs + seconds * 1000;
  const base: CdrEntry = {
    id: String(idRaw),
    startMs,
    endMs,
    seconds,
    direction: Number(rec['call-direction'] ?? -1),
    buf: Buffer.alloc(0),
    off: 0,
    len: 0,
    lateU: 1,
    updateU: 1,
    generated: false,
  };
  if (visibleAtMs !== undefined) base.visibleAtMs = visibleAtMs;
  return withJson(base, JSON.stringify(rec));
}
