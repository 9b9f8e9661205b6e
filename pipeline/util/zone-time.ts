/**
 * The one place time zones are handled: the validator, offsets, instant -> wall clock and wall
 * clock -> instant. Built on @date-fns/tz (which caches its Intl formatters). Offsets change at
 * most once a day and on a quarter hour, so each (zone, UTC day) costs two lookups (a few more on
 * a DST day) and is cached: the simulator and parsers ask for millions of them.
 */
import { TZDate, tzOffset } from '@date-fns/tz';

const QUARTER_MS = 900_000;
export const DAY_MS = 86_400_000;

const knownZones = new Map<string, boolean>();

/**
 * True when the runtime's ICU knows the zone (IANA names and aliases such as US/Pacific). The only
 * zone validator: configuration, the API's `[zone]` suffixes and reconciliation all use it.
 */
export function isKnownZone(zone: string): boolean {
  let known = knownZones.get(zone);
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      known = zone.trim() !== '';
    } catch {
      known = false;
    }
    // Names come from config and from API records; bound the cache against a flood of junk names.
    if (knownZones.size < 1000) knownZones.set(zone, known);
  }
  return known;
}

/** Uncached offset in whole minutes (a few µs a call). */
function rawOffsetMinutes(zone: string, at: number): number {
  return tzOffset(zone, new Date(at));
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
 * The instant (epoch ms) at which the wall clock in `zone` reads the given time (`month` 1..12).
 * A wall time that does not exist (spring-forward gap) moves forward by the gap: 02:30 on the
 * day New York skips 02:00-03:00 is 03:30 EDT, as DuckDB reads it. A wall time that exists twice
 * (fall back) is the first of the two. NaN for a zone the runtime does not know.
 */
export function zonedWallTimeToUtc(
  zone: string,
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
  second = 0,
  ms = 0,
): number {
  if (!isKnownZone(zone)) return NaN;
  return new TZDate(year, month - 1, day, hour, minute, second, ms, zone).getTime();
}
