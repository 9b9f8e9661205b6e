import cron from 'node-cron';
import { ConfigError } from '../util/errors.ts';
import { zoneOffsetMinutes } from '../util/zone-time.ts';

/**
 * Pure cron evaluation in a time zone: the previous and next tick of an expression around any
 * instant. node-cron schedules the live ticks; this answers the questions node-cron cannot
 * (which tick was missed while we were down, when is the next run as of an injected clock).
 *
 * Semantics follow node-cron 4 so both agree:
 * - 5 fields (minute first) or 6 fields (second first); day-of-month AND day-of-week must both match;
 * - a wall time that does not exist (spring-forward gap) never fires;
 * - a wall time that happens twice (fall-back overlap) fires once, at its first occurrence.
 */

/** Wall-clock fields of an instant in a time zone. */
export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

interface CronFields {
  second: number[];
  minute: number[];
  hour: number[];
  /** Numbers, or 'L' for the last day of the month. */
  dayOfMonth: (number | string)[];
  month: number[];
  /** Numbers 0..6 (Sunday 0), or 'n#k' (k-th weekday n of the month) / 'nL' (last weekday n). */
  dayOfWeek: (number | string)[];
}

const fieldCache = new Map<string, CronFields>();

/** Parses (and validates) a node-cron expression; the error names the expression. */
export function parseCron(expr: string): CronFields {
  const cached = fieldCache.get(expr);
  if (cached) return cached;
  const detailed = cron.validateDetailed(expr);
  if (!detailed.valid) {
    const why = detailed.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
    throw new ConfigError(`bad cron expression ${JSON.stringify(expr)}: ${why || 'invalid'} (e.g. "*/15 * * * *" or "0 6 1 * *")`, 'cron');
  }
  const p = cron.parse(expr);
  const fields: CronFields = {
    second: [...p.second].sort((a, b) => a - b),
    minute: [...p.minute].sort((a, b) => a - b),
    hour: [...p.hour].sort((a, b) => a - b),
    dayOfMonth: p.dayOfMonth,
    month: p.month,
    dayOfWeek: p.dayOfWeek.map((d) => (d === 7 ? 0 : d)),
  };
  fieldCache.set(expr, fields);
  return fields;
}

/** The wall clock in `timeZone` at instant `at`. */
export function localParts(at: Date, timeZone: string): LocalParts {
  const ms = Math.floor(at.getTime() / 1000) * 1000;
  const local = new Date(ms + offsetMs(ms, timeZone));
  return {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth() + 1,
    day: local.getUTCDate(),
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    second: local.getUTCSeconds(),
  };
}

function asUtcMs(p: LocalParts): number {
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
}

/** Offset of local time from UTC at an instant, in ms (the shared, cached zone arithmetic). */
function offsetMs(at: number, timeZone: string): number {
  return zoneOffsetMinutes(timeZone, at) * 60_000;
}

function sameParts(a: LocalParts, b: LocalParts): boolean {
  return a.year === b.year && a.month === b.month && a.day === b.day && a.hour === b.hour && a.minute === b.minute && a.second === b.second;
}

/**
 * The instant a wall time stands for in a zone: the earliest one when it happens twice,
 * undefined when it does not happen at all (the DST gap).
 */
export function fromLocal(p: LocalParts, timeZone: string): Date | undefined {
  const guess = asUtcMs(p);
  const DAY = 86_400_000;
  // Offsets a day either side cover both sides of any one transition.
  const candidates = new Set([guess - offsetMs(guess - DAY, timeZone), guess - offsetMs(guess, timeZone), guess - offsetMs(guess + DAY, timeZone)]);
  const hits = [...candidates].filter((ms) => sameParts(localParts(new Date(ms), timeZone), p)).sort((a, b) => a - b);
  return hits.length > 0 ? new Date(hits[0]!) : undefined;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function dayMatches(f: CronFields, year: number, month: number, day: number): boolean {
  if (!f.month.includes(month)) return false;
  const last = daysInMonth(year, month);
  const domOk = f.dayOfMonth.some((d) => (d === 'L' ? day === last : d === day || String(d) === String(day)));
  if (!domOk) return false;
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  return f.dayOfWeek.some((d) => {
    if (typeof d === 'number') return d === weekday;
    const nth = /^(\d)#(\d)$/.exec(d);
    if (nth) return Number(nth[1]) % 7 === weekday && Math.ceil(day / 7) === Number(nth[2]);
    const lastOf = /^(\d)L$/.exec(d);
    if (lastOf) return Number(lastOf[1]) % 7 === weekday && day + 7 > last;
    return Number(d) % 7 === weekday;
  });
}

function shiftDay(p: { year: number; month: number; day: number }, delta: number) {
  const d = new Date(Date.UTC(p.year, p.month - 1, p.day + delta));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** How far to search; covers yearly expressions and Feb-29 ones across a leap cycle. */
const MAX_DAYS = 366 * 8;

/**
 * Wall times of one matching day as instants, in order (gap times dropped). Wall-clock order is
 * instant order: a repeated hour maps to its first occurrence, which still precedes the next hour.
 */
function* ticksOfDay(f: CronFields, timeZone: string, day: { year: number; month: number; day: number }, descending: boolean): Generator<Date> {
  const order = <T,>(xs: T[]) => (descending ? [...xs].reverse() : xs);
  for (const hour of order(f.hour))
    for (const minute of order(f.minute))
      for (const second of order(f.second)) {
        const at = fromLocal({ ...day, hour, minute, second }, timeZone);
        if (at) yield at;
      }
}

function find(it: Iterable<Date>, pred: (d: Date) => boolean): Date | undefined {
  for (const d of it) if (pred(d)) return d;
  return undefined;
}

/** The first tick strictly after `after`. */
export function nextTick(expr: string, timeZone: string, after: Date): Date {
  const f = parseCron(expr);
  let day = shiftDay(localParts(after, timeZone), -1);
  for (let i = 0; i < MAX_DAYS; i++, day = shiftDay(day, 1)) {
    if (!dayMatches(f, day.year, day.month, day.day)) continue;
    const hit = find(ticksOfDay(f, timeZone, day, false), (t) => t.getTime() > after.getTime());
    if (hit) return hit;
  }
  throw new Error(`cron expression ${JSON.stringify(expr)} has no tick within ${MAX_DAYS} days after ${after.toISOString()}`);
}

/** The latest tick at or before `atOrBefore`, or undefined when there is none in the search range. */
export function previousTick(expr: string, timeZone: string, atOrBefore: Date): Date | undefined {
  const f = parseCron(expr);
  let day = shiftDay(localParts(atOrBefore, timeZone), 1);
  for (let i = 0; i < MAX_DAYS; i++, day = shiftDay(day, -1)) {
    if (!dayMatches(f, day.year, day.month, day.day)) continue;
    const hit = find(ticksOfDay(f, timeZone, day, true), (t) => t.getTime() <= atOrBefore.getTime());
    if (hit) return hit;
  }
  return undefined;
}

/** The next `count` ticks after `after`. */
export function nextTicks(expr: string, timeZone: string, after: Date, count: number): Date[] {
  const out: Date[] = [];
  let at = after;
  for (let i = 0; i < count; i++) {
    at = nextTick(expr, timeZone, at);
    out.push(at);
  }
  return out;
}
