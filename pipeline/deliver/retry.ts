/** Which SMTP failures are worth retrying, and the backoff between tries. */
import { fullJitterDelay } from '../util/backoff.ts';
import { realSleep, type SleepFn } from '../util/sleep.ts';

export interface RetryOptions {
  /** Tries per message, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Injectable so tests wait microseconds, not seconds. */
  sleep?: SleepFn;
  /** [0, 1) like Math.random (the default); injectable so tests see the jitter's bounds. */
  random?: () => number;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 4, baseDelayMs: 1000, maxDelayMs: 30_000 };

const TRANSIENT_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'ECONNRESET',
  'EPIPE',
  'ECONNREFUSED',
  'EDNS',
  'EAI_AGAIN',
  'EPROTOCOL',
]);

/** 4xx replies and connection-level errors are transient; 5xx replies, auth and message errors are not. */
export function isTransientSmtpError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { responseCode?: unknown; code?: unknown };
  if (typeof e.responseCode === 'number') return e.responseCode >= 400 && e.responseCode < 500;
  return typeof e.code === 'string' && TRANSIENT_CODES.has(e.code);
}

/** Runs `fn` until it succeeds, fails permanently, or runs out of attempts; returns the tries used. */
export async function withRetry<T>(
  fn: () => Promise<T>,
  opts: RetryOptions,
  hooks: { signal?: AbortSignal; onRetry?: (err: unknown, attempt: number, delayMs: number) => void } = {},
): Promise<{ value: T; attempts: number }> {
  const wait = opts.sleep ?? realSleep;
  for (let attempt = 1; ; attempt++) {
    hooks.signal?.throwIfAborted();
    try {
      return { value: await fn(), attempts: attempt };
    } catch (err) {
      if (attempt >= opts.attempts || !isTransientSmtpError(err) || hooks.signal?.aborted) {
        throw Object.assign(err instanceof Error ? err : new Error(String(err)), { attempts: attempt });
      }
      const delay = fullJitterDelay(attempt - 1, opts, opts.random);
      hooks.onRetry?.(err, attempt, delay);
      await wait(delay, hooks.signal);
    }
  }
}
