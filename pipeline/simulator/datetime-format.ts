/**
 * Datetimes as the v2 API speaks them. A request may use any of the confirmed forms, and the
 * server answers in the form of the request: bare `YYYY-MM-DD HH:MM:SS` (UTC), `...Z`, a fixed
 * offset, or an offset with a `[Zone]` suffix (then each value carries that zone's offset at its
 * own instant, so DST shows). Records are kept internally in the `Z` form and rewritten per response.
 */
import { zoneOffsetMinutes } from '../util/zone-time.ts';

export const DATETIME_KINDS = ['bare', 'utc-z', 'offset', 'zone'] as const;
export type DatetimeKind = (typeof DATETIME_KINDS)[number];

/** How datetimes are written in a response. */
export type DatetimeFormat =
  { kind: 'bare'; separator: ' ' | 'T' } | { kind: 'utc-z' } | { kind: 'offset'; offsetMinutes: number } | { kind: 'zone'; zone: string };

export const CANONICAL_FORMAT: DatetimeFormat = { kind: 'utc-z' };

const DATETIME_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:([ T])(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(?:(Z|z)|([+-])(\d{2}):?(\d{2}))?(?:\[([A-Za-z0-9_+\-/]+)\])?$/;

/** A parsed request datetime: the instant and the form it was written in. */
export interface ParsedDatetime {
  epochMs: number;
  format: DatetimeFormat;
}

/** Parses any accepted datetime form; undefined when the text is not one of them. */
export function parseApiDatetime(text: string): ParsedDatetime | undefined {
  const m = DATETIME_RE.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, sep, hh, mi, ss, frac, z, sign, oh, om, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(hh ?? 0);
  const minute = Number(mi ?? 0);
  const second = Number(ss ?? 0);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = frac ? Math.floor(Number('0.' + frac) * 1000) : 0;
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  if (new Date(wall).getUTCDate() !== day) return undefined;
  if (z) return { epochMs: wall, format: { kind: 'utc-z' } };
  if (sign) {
    const offsetMinutes = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
    const format: DatetimeFormat = zone ? { kind: 'zone', zone } : { kind: 'offset', offsetMinutes };
    return { epochMs: wall - offsetMinutes * 60_000, format };
  }
  // A bare datetime has no documented zone: the simulator reads it as UTC.
  return { epochMs: wall, format: { kind: 'bare', separator: sep === 'T' ? 'T' : ' ' } };
}

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

function offsetText(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return sign + pad2(Math.floor(abs / 60)) + ':' + pad2(abs % 60);
}

const DAY_MS = 86_400_000;
const dayPrefix = new Map<number, string>();
const PAD2 = Array.from({ length: 60 }, (_, i) => (i < 10 ? '0' : '') + i);

/** `2026-11-27T13:00:00Z`: the internal form. Hot in generation, hence the per-day cache. */
export function formatCanonical(epochMs: number): string {
  const day = Math.floor(epochMs / DAY_MS);
  let prefix = dayPrefix.get(day);
  if (prefix === undefined) {
    prefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    if (dayPrefix.size > 100_000) dayPrefix.clear();
    dayPrefix.set(day, prefix);
  }
  const secs = Math.floor((epochMs - day * DAY_MS) / 1000);
  return prefix + PAD2[Math.floor(secs / 3600)] + ':' + PAD2[Math.floor(secs / 60) % 60] + ':' + PAD2[secs % 60] + 'Z';
}

/** Writes an instant in the given response form. */
export function formatApiDatetime(epochMs: number, format: DatetimeFormat): string {
  switch (format.kind) {
    case 'utc-z':
      return formatCanonical(epochMs);
    case 'bare': {
      const iso = new Date(epochMs).toISOString();
      return iso.slice(0, 10) + format.separator + iso.slice(11, 19);
    }
    case 'offset':
      return new Date(epochMs + format.offsetMinutes * 60_000).toISOString().slice(0, 19) + offsetText(format.offsetMinutes);
    case 'zone': {
      const off = zoneOffsetMinutes(format.zone, epochMs);
      return new Date(epochMs + off * 60_000).toISOString().slice(0, 19) + offsetText(off) + '[' + format.zone + ']';
    }
  }
}

/**
 * Rewrites every `"...-datetime":"<canonical>"` value in a serialized body into `format`. Only
 * unescaped key/value pairs match, so a caller name that merely contains such text is left alone.
 */
const CANONICAL_VALUE_RE = /("[a-z-]*datetime":)"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})Z"/g;

export function rewriteBodyDatetimes(body: string, format: DatetimeFormat): string {
  if (format.kind === 'utc-z') return body;
  if (format.kind === 'bare') {
    const sep = format.separator;
    return body.replace(CANONICAL_VALUE_RE, (_all, key: string, date: string, time: string) => `${key}"${date}${sep}${time}"`);
  }
  return body.replace(CANONICAL_VALUE_RE, (_all, key: string, date: string, time: string) => {
    const ms = Date.parse(`${date}T${time}Z`);
    return `${key}"${formatApiDatetime(ms, format)}"`;
  });
}

/** Describes a format for messages and docs, e.g. `offset -08:00`. */
export function describeFormat(format: DatetimeFormat): string {
  switch (format.kind) {
    case 'utc-z':
      return 'utc-z';
    case 'bare':
      return 'bare';
    case 'offset':
      return 'offset ' + offsetText(format.offsetMinutes);
    case 'zone':
      return 'zone ' + format.zone;
  }
}
