/** Small helpers for the breakdown tools' timelines. */

/** Per key, the first and last time an event of it was seen and how many there were (in the events' order). */
export function firstAndLast<T extends { t: number }>(
  events: readonly T[],
  keyOf: (e: T) => string,
): Map<string, { first: number; last: number; n: number }> {
  const out = new Map<string, { first: number; last: number; n: number }>();
  for (const ev of events) {
    const e = out.get(keyOf(ev)) ?? { first: ev.t, last: ev.t, n: 0 };
    e.last = ev.t;
    e.n++;
    out.set(keyOf(ev), e);
  }
  return out;
}
