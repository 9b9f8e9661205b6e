/**
 * Pure retry arithmetic: which answers are worth another attempt, how long to wait, and how to
 * read `Retry-After`. No I/O, no clock reads: callers pass `nowMs` and a random source.
 */
import { fullJitterDelay, type BackoffSettings } from '../util/backoff.ts';

/** Why an attempt is retried; the keys of `SourceStats.retriesByReason`. */
export const RETRY_REASONS = ['429', '5xx', 'network', 'timeout', 'bad-body', '401'] as const;
export type RetryReason = (typeof RETRY_REASONS)[number];

/**
 * `Retry-After` as milliseconds to wait from `nowMs`: delta-seconds (`120`, also `1.5`) or an
 * HTTP date in any of RFC 9110's three forms (IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`,
 * RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT`, asctime `Sun Nov  6 08:49:37 1994`), plus RFC 3339
 * with a zone. A date in the past means 0. Null when absent or unreadable (the caller then
 * falls back to backoff).
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | null {
  if (value === null || value === undefined) return null;
  const text = value.trim();
  if (text === '') return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = parseHttpDate(text);
  return at === null ? null : Math.max(0, at - nowMs);
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] as const;
const IMF_RE = /^[A-Za-z]{3},\s+(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{2}):(\d{2}):(\d{2})\s+(?:GMT|UTC)$/i;
const RFC850_RE = /^[A-Za-z]+,\s+(\d{1,2})-([A-Za-z]{3})-(\d{2}|\d{4})\s+(\d{2}):(\d{2}):(\d{2})\s+(?:GMT|UTC)$/i;
const ASCTIME_RE = /^[A-Za-z]{3}\s+([A-Za-z]{3})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})\s+(\d{4})(?:\s+(?:GMT|UTC))?$/i;
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i;

/** Epoch ms of an HTTP date, or null. */
export function parseHttpDate(text: string): number | null {
  if (RFC3339_RE.test(text)) {
    const t = Date.parse(text);
    return Number.isNaN(t) ? null : t;
  }
  // Normalised to [day, month name, year, hh, mm, ss].
  let p: string[] | null = null;
  let m: RegExpExecArray | null;
  if ((m = IMF_RE.exec(text))) p = m.slice(1, 7);
  else if ((m = RFC850_RE.exec(text))) {
    p = m.slice(1, 7);
    // RFC 9110 reads a two-digit year as the nearest one; for a Retry-After that is this century.
    if (p[2]!.length === 2) p[2] = String(2000 + Number(p[2]));
  } else if ((m = ASCTIME_RE.exec(text))) p = [m[2]!, m[1]!, m[6]!, m[3]!, m[4]!, m[5]!];
  if (p === null) return null;
  const [day, mon, year, hh, mm, ss] = p.map((x, i) => (i === 1 ? x : Number(x))) as [number, string, number, number, number, number];
  const month = MONTHS.indexOf(mon.toLowerCase() as (typeof MONTHS)[number]);
  if (month < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) return null;
  const t = Date.UTC(year, month, day, hh, mm, Math.min(ss, 59));
  return new Date(t).getUTCDate() === day ? t : null;
}

/** How long to wait before retrying, honouring Retry-After (capped) and otherwise the shared full-jitter backoff. */
export function retryDelay(
  retry: number,
  retryAfterMs: number | null,
  settings: BackoffSettings & { retryAfterCapMs: number },
  random: () => number,
): number {
  if (retryAfterMs !== null) return Math.min(retryAfterMs, settings.retryAfterCapMs);
  return fullJitterDelay(retry, settings, random);
}

/** A status the client should retry (with backoff) rather than fail on at once. */
export function retryReasonForStatus(status: number): RetryReason | null {
  if (status === 429) return '429';
  if (status === 408) return 'timeout';
  // 501 Not Implemented and 505 HTTP Version Not Supported will not change on a retry.
  if (status === 501 || status === 505) return null;
  if (status >= 500 && status <= 599) return '5xx';
  return null;
}

/** Whether this reason means "the provider is struggling": closes the shared backoff gate. */
export function slowsEveryone(reason: RetryReason): boolean {
  return reason === '429' || reason === '5xx';
}
