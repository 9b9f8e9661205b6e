/**
 * Pure retry arithmetic: which answers are worth another attempt, how long to wait, and how to
 * read `Retry-After`. No I/O, no clock reads: callers pass `nowMs` and a random source.
 */

/** Why an attempt is retried; the keys of `SourceStats.retriesByReason`. */
export const RETRY_REASONS = ['429', '5xx', 'network', 'timeout', 'bad-body', '401'] as const;
export type RetryReason = (typeof RETRY_REASONS)[number];

export interface BackoffSettings {
  /** First retry waits up to this long (full jitter: uniform in [0, ceiling]). */
  baseDelayMs: number;
  /** No single wait is longer than this, whatever the attempt number. */
  maxDelayMs: number;
}

/**
 * "Full jitter" exponential backoff (AWS architecture blog): a uniform draw from
 * [0, min(max, base * 2^retry)]. `retry` counts from 0 for the first retry.
 * `random` returns [0, 1) like Math.random.
 */
export function fullJitterDelay(retry: number, settings: BackoffSettings, random: () => number): number {
  const ceiling = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** Math.min(retry, 30));
  return Math.floor(random() * (ceiling + 1));
}

/**
 * `Retry-After` as milliseconds to wait from `nowMs`: delta-seconds (`120`, also `1.5`) or an
 * HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`, or any form Date.parse reads with a zone).
 * A date in the past means 0. Null when absent or unreadable, so the caller falls back to backoff.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | null {
  if (value === null || value === undefined) return null;
  const text = value.trim();
  if (text === '') return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // Only accept things that look like dates with a zone: Date.parse is lenient with garbage.
  if (!/[A-Za-z]{3}.*\d{4}|\d{4}-\d{2}-\d{2}T/.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}

/** How long to wait before retrying, honouring Retry-After (capped) and otherwise full jitter. */
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
  if (status >= 500 && status <= 599) return '5xx';
  return null;
}

/** Whether this reason means "the provider is struggling": closes the shared backoff gate. */
export function slowsEveryone(reason: RetryReason): boolean {
  return reason === '429' || reason === '5xx';
}
