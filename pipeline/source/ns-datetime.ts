import { isKnownZone, zonedWallTimeToUtc } from '../util/zone-time.ts';

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
 * Pure and cheap: the common shapes are read by character position, the rest by one regex.
 */
export function parseNsDatetime(text: string, opts?: ParseDatetimeOptions): Date | null {
  if (typeof text !== 'string' || text.length < 16 || text.length > 80) return null;
  const fast = fastPath(text, opts);
  if (fast !== undefined) return fast;
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
  // Years below 100 would be remapped to 19xx by Date.UTC; nobody's CDRs are that old.
  if (year < 100 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;

  let utcMs = Date.UTC(year, month - 1, day, hour, minute, second, ms);
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

function d2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * The shapes a page is full of, read by character position (the regex costs ~1 µs a value,
 * this ~0.1 µs): `YYYY-MM-DD[T ]HH:MM:SS` followed by nothing, `Z`, or `±HH:MM` with an optional
 * `[Zone]`. Returns undefined for anything else (fractions, short offsets...): the regex decides.
 */
function fastPath(s: string, opts: ParseDatetimeOptions | undefined): Date | null | undefined {
  const len = s.length;
  if (len < 19) return undefined;
  const sep = s.charCodeAt(10);
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || (sep !== 84 && sep !== 32) || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58)
    return undefined;
  let offsetMin = 0;
  if (len === 19) {
    if (opts?.bareZone !== undefined) return undefined;
  } else if (len === 20 && s.charCodeAt(19) === 90) {
    // Z
  } else if (len >= 25 && (s.charCodeAt(19) === 43 || s.charCodeAt(19) === 45) && s.charCodeAt(22) === 58) {
    if (len > 25 && !(s.charCodeAt(25) === 91 && s.charCodeAt(len - 1) === 93 && isKnownZone(s.slice(26, len - 1)))) return undefined;
    const oh = d2(s, 20);
    const om = d2(s, 23);
    if (oh < 0 || om < 0 || oh > 23 || om > 59) return null;
    offsetMin = (oh * 60 + om) * (s.charCodeAt(19) === 43 ? 1 : -1);
  } else return undefined;
  const year = d2(s, 0) * 100 + d2(s, 2);
  const month = d2(s, 5);
  const day = d2(s, 8);
  const hour = d2(s, 11);
  const minute = d2(s, 14);
  const second = d2(s, 17);
  if (year < 100 || d2(s, 0) < 0 || d2(s, 2) < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return null;
  const epochSeconds = daysFromCivil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offsetMin * 60;
  return new Date(epochSeconds * 1000);
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm): Date.UTC without its cost. */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function wallClockInZone(zone: string, y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number | null {
  const t = zonedWallTimeToUtc(zone, y, mo, d, h, mi, s, ms);
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
