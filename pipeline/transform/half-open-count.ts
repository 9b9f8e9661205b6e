/**
 * The API side of reconciliation: a half-open [start, end) count, whichever way the server treats
 * datetime-end.
 */
import type { CdrCount, CdrSource, TimeWindow } from '../source/index.ts';

/** The records starting in [start, end) as the client keeps them (it drops out-of-window records). */
async function recordsIn(
  source: CdrSource,
  domain: string,
  window: TimeWindow,
  signal?: AbortSignal,
): Promise<{ count: number; seconds: number }> {
  let count = 0;
  let seconds = 0;
  for await (const page of source.listCdrs(domain, window, { signal })) {
    for (const r of page.records) {
      count++;
      seconds += Number(r['call-total-duration-seconds'] ?? 0) || 0;
    }
  }
  return { count, seconds };
}

const SECOND = 1000;

/**
 * The API's count and seconds for the half-open window [start, end), whichever way the server
 * treats datetime-end. One extra count of [end, end+1s) usually shows that nothing starts at
 * `end`, and then count[start, end] is the answer on either kind of server. Otherwise the records
 * starting exactly at `end` are fetched, and count[end-1s, end] compared with the records in
 * [end-1s, end) tells whether the server included them; if it did, they are taken off.
 */
export async function halfOpenCount(
  source: CdrSource,
  domain: string,
  w: TimeWindow,
  signal?: AbortSignal,
): Promise<{ total: number; seconds: number; endInclusive?: boolean }> {
  const main: CdrCount = await source.countCdrs(domain, w, { signal });
  const after = { start: w.end, end: new Date(w.end.getTime() + SECOND) };
  const probe = await source.countCdrs(domain, after, { signal });
  if (probe.total === 0) return { total: main.total, seconds: main.seconds };
  const atEnd = await recordsIn(source, domain, after, signal);
  if (atEnd.count === 0) return { total: main.total, seconds: main.seconds };
  const before = { start: new Date(w.end.getTime() - SECOND), end: w.end };
  const [counted, kept] = await Promise.all([source.countCdrs(domain, before, { signal }), recordsIn(source, domain, before, signal)]);
  const endInclusive = counted.total === kept.count + atEnd.count;
  return endInclusive
    ? { total: main.total - atEnd.count, seconds: main.seconds - atEnd.seconds, endInclusive }
    : { total: main.total, seconds: main.seconds, endInclusive };
}
