/** Which SMTP failures are worth retrying, and the backoff between tries. */

export interface RetryOptions {
  /** Tries per message, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Injectable so tests wait microseconds, not seconds. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 4, baseDelayMs: 1000, maxDelayMs: 30_000 };

const TRANSIENT_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'EDNS', 'EAI_AGAIN', 'EPROTOCOL']);

/** 4xx replies and connection-level errors are transient; 5xx replies, auth and message errors are not. */
export function isTransientSmtpError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { responseCode?: unknown; code?: unknown };
  if (typeof e.responseCode === 'number') return e.responseCode >= 400 && e.responseCode < 500;
  return typeof e.code === 'string' && TRANSIENT_CODES.has(e.code);
}

/** Exponential backoff with full jitter: attempt 1 -> up to base, 2 -> up to 2*base, ... capped. */
export function backoffDelay(attempt: number, opts: RetryOptions, random: () => number = Math.random): number {
  const cap = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs `fn` until it succeeds, fails permanently, or runs out of attempts; returns the tries used. */
export async function withRetry<T>(
  fn: () => Promise<T>,
  opts: RetryOptions,
  hooks: { signal?: AbortSignal; onRetry?: (err: unknown, attempt: number, delayMs: number) => void } = {},
): Promise<{ value: T; attempts: number }> {
  const wait = opts.sleep ?? sleep;
  for (let attempt = 1; ; attempt++) {
    hooks.signal?.throwIfAborted();
    try {
      return { value: await fn(), attempts: attempt };
    } catch (err) {
      if (attempt >= opts.attempts || !isTransientSmtpError(err) || hooks.signal?.aborted) {
        throw Object.assign(err instanceof Error ? err : new Error(String(err)), { attempts: attempt });
      }
      const delay = backoffDelay(attempt, opts);
      hooks.onRetry?.(err, attempt, delay);
      await wait(delay, hooks.signal);
    }
  }
}
