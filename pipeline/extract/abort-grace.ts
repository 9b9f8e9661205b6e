/** How long windows in flight may finish after a stop before their requests are cut off. */
export const DEFAULT_ABORT_GRACE_MS = 3_000;

/**
 * A signal that aborts `graceMs` after `stop` does: a stop lets work in flight finish briefly,
 * then cuts it off, so a slow or trickling answer cannot hold a stopping run for long.
 * `dispose` clears the timer (call it when the work is over).
 */
export function abortAfterGrace(stop: AbortSignal | undefined, graceMs: number): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const onStop = () => {
    timer = setTimeout(
      () => controller.abort(new DOMException(`stopped: requests still in flight ${graceMs} ms after the stop were cut off`, 'AbortError')),
      graceMs,
    );
    // The grace period must never be what keeps the process alive.
    timer.unref();
  };
  if (stop?.aborted) onStop();
  else stop?.addEventListener('abort', onStop, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      stop?.removeEventListener('abort', onStop);
      if (timer) clearTimeout(timer);
    },
  };
}
