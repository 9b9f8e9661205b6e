/**
 * Time-zone arithmetic with Intl only. Offsets change at most on the hour in every zone the
 * simulator uses (and at :30/:45 in a few others), so results are cached per zone and 15 minutes.
 */

const HOUR_MS = 3_600_000;
const QUARTER_MS = 900_000;
export const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCache = new Map<string, number>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** True when Intl knows the zone (IANA names and aliases such as US/Pacific). */
export function isKnownZone(zone: string): boolean {
  try {
    formatterFor(zone);
    return true;
  } catch {
    return false;
  }
}

/** Minutes east of UTC in `zone` at the instant `epochMs` (e.g. -480 for US/Pacific in winter). */
export function zoneOffsetMinutes(zone: string, epochMs: number): number {
  if (zone === 'UTC' || zone === 'Etc/UTC') return 0;
  const bucket = Math.floor(epochMs / QUARTER_MS);
  const key = zone + '|' + bucket;
  const cached = offsetCache.get(key);
  if (cached !== undefined) return cached;
  const at = bucket * QUARTER_MS;
  const parts = formatterFor(zone).formatToParts(new Date(at));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  const offset = Math.round((asUtc - at) / 60_000);
  if (offsetCache.size > 200_000) offsetCache.clear();
  offsetCache.set(key, offset);
  return offset;
}

/** Local wall-clock parts of an instant in a zone. `weekday` is 0 = Sunday. */
export function localParts(zone: string, epochMs: number): { hour: number; weekday: number; date: Date } {
  const local = new Date(epochMs + zoneOffsetMinutes(zone, epochMs) * 60_000);
  return { hour: local.getUTCHours(), weekday: local.getUTCDay(), date: local };
}

/**
 * The instant at which the local wall clock in `zone` reads the given time. For a wall time that
 * does not exist (spring-forward gap) the later offset is used; for one that exists twice, the first.
 */
export function zonedWallTimeToUtc(zone: string, year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  let guess = wall - zoneOffsetMinutes(zone, wall) * 60_000;
  for (let i = 0; i < 3; i++) {
    const next = wall - zoneOffsetMinutes(zone, guess) * 60_000;
    if (next === guess) break;
    guess = next;
  }
  // Prefer the earlier of two candidate instants when the wall time repeats (fall back).
  const earlier = guess - HOUR_MS;
  if (earlier + zoneOffsetMinutes(zone, earlier) * 60_000 === wall) return earlier;
  return guess;
}
