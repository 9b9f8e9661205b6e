/**
 * The product's one abortable wait, used by the API client (backoff, rate cap) and mail delivery
 * (retries). Injectable as a SleepFn so tests can record waits instead of spending them.
 */

/** Waits `ms` (real timers), rejecting with the signal's reason as soon as it aborts. */
export type SleepFn = (ms: number, signal?: AbortSignal) => Promise<void>;

/** setTimeout-based SleepFn; `ms <= 0` resolves at once (unless already aborted). */
export const realSleep: SleepFn = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    if (ms <= 0) {
      resolve();
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** The signal's reason, or a standard AbortError when it was aborted without one. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

/** Throws the signal's abort reason if it has aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortReason(signal);
}
