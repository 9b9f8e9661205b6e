/** The product's one retry backoff, shared by the API client and mail delivery. */

export interface BackoffSettings {
  /** The first retry waits at most this long. */
  baseDelayMs: number;
  /** No single wait is longer than this, whatever the retry number. */
  maxDelayMs: number;
}

/**
 * Exponential backoff with "full jitter" as the AWS Architecture Blog describes it ("Exponential
 * Backoff And Jitter"): a uniform draw from [0, min(maxDelayMs, baseDelayMs * 2^retry)] whole
 * milliseconds, bounds included. Full rather than equal jitter because clients that failed
 * together then spread over the whole interval instead of its upper half, which is what lets an
 * overloaded server recover. `retry` counts from 0 for the first retry; `random` returns [0, 1)
 * like Math.random.
 */
export function fullJitterDelay(retry: number, settings: BackoffSettings, random: () => number = Math.random): number {
  // The exponent is capped so a long retry series cannot overflow to Infinity before the cap applies.
  const ceiling = Math.max(0, Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** Math.min(Math.max(retry, 0), 30)));
  const draw = Math.min(Math.max(random(), 0), 1 - Number.EPSILON);
  return Math.floor(draw * (ceiling + 1));
}
