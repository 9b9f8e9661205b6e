import type { Clock } from '../util/clock.ts';
import type { SleepFn } from '../util/sleep.ts';

/**
 * One gate per client. The provider is shared by every request we make, so when one request is
 * told to back off (429, 5xx) every request waits: new ones queue at the gate until it reopens,
 * instead of piling more load on a server that just said it is overloaded.
 */
export class BackoffGate {
  private openAtMs = 0;

  constructor(
    private readonly clock: Clock,
    private readonly sleep: SleepFn,
  ) {}

  /** Keep the gate shut for at least `ms` from now (never shortens an existing pause). */
  closeFor(ms: number): void {
    this.openAtMs = Math.max(this.openAtMs, this.clock.now().getTime() + Math.max(0, ms));
  }

  /** Milliseconds until the gate opens; 0 when open. */
  remainingMs(): number {
    return Math.max(0, this.openAtMs - this.clock.now().getTime());
  }

  /** Resolves once the gate is open; re-checks after each sleep because others may extend it. */
  async wait(signal?: AbortSignal): Promise<number> {
    let waited = 0;
    for (let remaining = this.remainingMs(); remaining > 0; remaining = this.remainingMs()) {
      await this.sleep(remaining, signal);
      waited += remaining;
    }
    return waited;
  }
}
