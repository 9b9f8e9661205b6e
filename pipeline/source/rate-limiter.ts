import type { Clock } from '../util/clock.ts';
import type { SleepFn } from '../util/sleep.ts';

/**
 * A requests-per-second cap: hands out evenly spaced send slots (1/rps apart), so bursts are
 * smoothed rather than allowed and then punished by the provider's own limiter.
 */
export class RateLimiter {
  private nextSlotMs = 0;
  private readonly spacingMs: number;

  constructor(
    requestsPerSecond: number,
    private readonly clock: Clock,
    private readonly sleep: SleepFn,
  ) {
    if (!(requestsPerSecond > 0)) throw new RangeError(`requestsPerSecond must be > 0, got ${requestsPerSecond}`);
    this.spacingMs = 1000 / requestsPerSecond;
  }

  /** Waits for this caller's slot. Slots are claimed synchronously, so callers are served in order. */
  async acquire(signal?: AbortSignal): Promise<void> {
    const now = this.clock.now().getTime();
    const slot = Math.max(now, this.nextSlotMs);
    this.nextSlotMs = slot + this.spacingMs;
    if (slot > now) await this.sleep(slot - now, signal);
  }
}
