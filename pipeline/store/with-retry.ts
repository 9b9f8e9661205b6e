import { fullJitterDelay, type BackoffSettings } from '../util/backoff.ts';
import { realSleep, type SleepFn } from '../util/sleep.ts';
import { isRetryable, storeErrorOf, type StoreOp } from './store-errors.ts';

/** How the store retries throttling (503 SlowDown, 429), 5xx answers and dropped connections. */
export interface StoreRetrySettings extends BackoffSettings {
  /** Tries in all, the first included. */
  attempts: number;
  sleep?: SleepFn;
  /** Told before each wait (a log line). */
  onRetry?: (info: { op: StoreOp; attempt: number; delayMs: number; error: unknown }) => void;
}

/** S3's own advice for SlowDown is to back off exponentially; eight tries span about half a minute at most. */
export const DEFAULT_STORE_RETRY: StoreRetrySettings = { attempts: 8, baseDelayMs: 200, maxDelayMs: 8_000 };

/**
 * Runs `fn` until it succeeds, fails for a reason a retry cannot fix, or runs out of tries; the
 * waits are the product's full-jitter backoff. The error thrown is the mapped one (store-errors.ts).
 * `fn` must build its request afresh each time (a stream body cannot be sent twice).
 */
export async function withStoreRetry<T>(op: StoreOp, fn: () => Promise<T>, settings: StoreRetrySettings, signal?: AbortSignal): Promise<T> {
  const sleep = settings.sleep ?? realSleep;
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn();
    } catch (err) {
      if (attempt >= settings.attempts || !isRetryable(err) || signal?.aborted) throw storeErrorOf(err, op);
      const delayMs = fullJitterDelay(attempt - 1, settings);
      settings.onRetry?.({ op, attempt, delayMs, error: err });
      await sleep(delayMs, signal);
    }
  }
}
