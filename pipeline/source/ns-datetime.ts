import { TZDate } from '@date-fns/tz';

/**
 * Datetimes as NetSapiens v2 writes them (netsapiens-v2.md, "Accepted datetime forms"):
 *   2026-11-27 13:00:00                 bare: no documented zone, read as UTC unless a zone is given
 *   2026-11-27T13:00:00Z                RFC 3339 UTC
 *   2026-11-27T13:00:00-08:00           RFC 3339 with offset
 *   2026-11-27T13:00:00-08:00[US/Pacific]  offset plus an RFC 9557 zone suffix (the offset decides)
 * plus fractional seconds (any number of digits, truncated to milliseconds), a lower-case `t`/`z`,
 * offsets written `-0800` or `-08`, and seconds left out (`13:00`).
 */
const DATETIME_RE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?(?:\[([^\]]+)\])?$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

function daysIn(year: number, month: number): number {
  if (month === 2 && ((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0)) return 29;
  return DAYS_IN_MONTH[month - 1]!;
}

export interface ParseDatetimeOptions {
  /**
   * Zone for values that carry neither an offset nor a `[zone]` suffix (IANA name such as
   * America/New_York). Default UTC: the API documents no zone for the bare form.
   */
  bareZone?: string;
}

/**
 * Parses any datetime form the API produces into a Date, or null when the text is not one
 * (wrong shape, impossible calendar date, out-of-range time or offset, unknown zone name,
 * the `0000-00-00 00:00:00` placeholder some PBXs write for "never").
 * Pure and cheap: one regex and integer arithmetic on the common paths.
 */
export function parseNsDatetime(text: string, opts?: ParseDatetimeOptions): Date | null {
  if (typeof text !== 'string' || text.length < 16 || text.length > 80) return null;
  const m = DATETIME_RE.exec(text);
  if (m === null) return null;
  const year = +m[1]!;
  const month = +m[2]!;
  const day = +m[3]!;
  const hour = +m[4]!;
  const minute = +m[5]!;
  const second = m[6] === undefined ? 0 : +m[6];
  const frac = m[7];
  const ms = frac === undefined ? 0 : +(frac + '00').slice(0, 3);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;

  let utcMs = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Date.UTC maps years 0-99 to 1900-1999; nobody's CDRs are that old, so refuse them.
  if (year < 100) return null;
  const zoneName = m[12];
  if (m[8] !== undefined) {
    // Z: already UTC.
  } else if (m[9] !== undefined) {
    const offH = +m[10]!;
    const offM = m[11] === undefined ? 0 : +m[11];
    if (offH > 23 || offM > 59) return null;
    const offsetMs = (offH * 60 + offM) * 60_000;
    utcMs += m[9] === '+' ? -offsetMs : offsetMs;
  } else {
    const zone = zoneName ?? opts?.bareZone;
    if (zone !== undefined && zone !== 'UTC' && zone !== 'Etc/UTC' && zone !== 'Z') {
      const zoned = wallClockInZone(zone, year, month, day, hour, minute, second, ms);
      if (zoned === null) return null;
      utcMs = zoned;
    }
  }
  if (zoneName !== undefined && !isKnownZone(zoneName)) return null;
  return new Date(utcMs);
}

const zoneCache = new Map<string, boolean>();

function isKnownZone(zone: string): boolean {
  let known = zoneCache.get(zone);
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      known = true;
    } catch {
      known = false;
    }
    if (zoneCache.size < 1000) zoneCache.set(zone, known);
  }
  return known;
}

function wallClockInZone(zone: string, y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number | null {
  if (!isKnownZone(zone)) return null;
  const t = new TZDate(y, mo - 1, d, h, mi, s, ms, zone).getTime();
  return Number.isNaN(t) ? null : t;
}

/**
 * RFC 3339 in UTC with `Z`, second precision, as the API should be sent it
 * (`2026-11-27T13:00:00Z`). `round` decides what happens to milliseconds: a window start is
 * floored and a window end is ceiled, so the request never asks for less than the window
 * (the client filters to the exact window afterwards).
 */
export function formatNsDatetime(at: Date, round: 'floor' | 'ceil' = 'floor'): string {
  const t = at.getTime();
  if (Number.isNaN(t)) throw new RangeError('formatNsDatetime: invalid Date');
  const seconds = round === 'floor' ? Math.floor(t / 1000) : Math.ceil(t / 1000);
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}
