/**
 * Time-zone arithmetic with Intl only. Offsets change at most once a day and on a quarter
 * hour, so each (zone, UTC day) costs two Intl calls (a few more on a DST day) and is cached.
 */

const HOUR_MS = 3_600_000;
const QUARTER_MS = 900_000;
export const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

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

/** Uncached offset from Intl (slow: about 10 µs a call). */
function rawOffsetMinutes(zone: string, at: number): number {
  const parts = formatterFor(zone).formatToParts(new Date(at));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(at / 1000) * 1000) / 60_000);
}

interface DayOffsets {
  before: number;
  after: number;
  /** First instant (on a quarter hour) with the `after` offset. */
  switchAt: number;
}

const dayCache = new Map<string, DayOffsets>();

/**
 * Minutes east of UTC in `zone` at the instant `epochMs` (e.g. -480 for US/Pacific in winter).
 * Looked up once per zone and UTC day: offsets change at most once a day, on a quarter hour.
 */
export function zoneOffsetMinutes(zone: string, epochMs: number): number {
  if (zone === 'UTC' || zone === 'Etc/UTC') return 0;
  const day = Math.floor(epochMs / DAY_MS);
  const key = zone + '|' + day;
  let info = dayCache.get(key);
  if (!info) {
    const start = day * DAY_MS;
    const before = rawOffsetMinutes(zone, start);
    const after = rawOffsetMinutes(zone, start + DAY_MS - QUARTER_MS);
    let switchAt = start + DAY_MS;
    if (before !== after) {
      let lo = 0;
      let hi = DAY_MS / QUARTER_MS - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (rawOffsetMinutes(zone, start + mid * QUARTER_MS) === before) lo = mid + 1;
        else hi = mid;
      }
      switchAt = start + lo * QUARTER_MS;
    }
    info = { before, after, switchAt };
    if (dayCache.size > 500_000) dayCache.clear();
    dayCache.set(key, info);
  }
  return epochMs < info.switchAt ? info.before : info.after;
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
