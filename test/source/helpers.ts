import { NetSapiensClient, type NetSapiensClientOptions } from '../../pipeline/source/netsapiens-client.ts';
import type { RetrySettings } from '../../pipeline/source/http-transport.ts';
import { realSleep, type SleepFn } from '../../pipeline/util/sleep.ts';
import type { CdrPage, TimeWindow } from '../../pipeline/source/types.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import type { RunningSimulator } from '../../pipeline/simulator/index.ts';

/** Backoff small enough that retries cost milliseconds; a generous budget so seeded faults always clear. */
export const FAST_RETRY: RetrySettings = { maxAttempts: 20, baseDelayMs: 2, maxDelayMs: 5, retryAfterCapMs: 5_000 };

/**
 * Client time that moves only when the client sleeps: every requested sleep is recorded and
 * advances the clock by exactly that much, while the real wait is at most `realCapMs`.
 * Backoff, Retry-After and the gate are then exact, and no test waits for real seconds.
 */
export function virtualTime(start: Date, realCapMs = 0): { clock: FixedClock; sleep: SleepFn; sleeps: number[] } {
  const clock = new FixedClock(start);
  const sleeps: number[] = [];
  const sleep: SleepFn = async (ms, signal) => {
    sleeps.push(ms);
    clock.advance(ms);
    await realSleep(Math.min(ms, realCapMs), signal);
  };
  return { clock, sleep, sleeps };
}

export function testClient(url: string, over: Partial<NetSapiensClientOptions> = {}): NetSapiensClient {
  return NetSapiensClient.create({
    baseUrl: url,
    auth: { kind: 'api-key', apiKey: 'nsr_test_key_0123456789' },
    retry: FAST_RETRY,
    timeoutMs: 10_000,
    random: () => 0.5,
    ...over,
  });
}

export async function collect(pages: AsyncIterable<CdrPage>): Promise<CdrPage[]> {
  const out: CdrPage[] = [];
  for await (const p of pages) out.push(p);
  return out;
}

export function ids(pages: CdrPage[]): string[] {
  return pages.flatMap((p) => p.cdrs.map((c) => c.id));
}

/** Sim's ground truth as (id, start ISO) pairs, the comparison every fault test makes. */
export function truthKeys(records: Record<string, unknown>[]): string[] {
  return records.map((r) => `${String(r.id)}@${new Date(String(r['call-start-datetime'])).toISOString()}`);
}

export function pageKeys(pages: CdrPage[]): string[] {
  return pages.flatMap((p) => p.cdrs.map((c) => `${c.id}@${c.startTime.toISOString()}`));
}

export const SIM_NOW = new Date('2026-11-27T12:00:00Z');
/** Mon 2 Nov to Thu 5 Nov 2026 (UTC): a few hundred calls per simulated domain. */
export const WEEK: TimeWindow = { start: new Date('2026-11-02T00:00:00Z'), end: new Date('2026-11-05T00:00:00Z') };

/** The simulated domain with the most calls in `window`. */
export function busiest(sim: RunningSimulator, window: TimeWindow = WEEK): string {
  const sized = sim.domains().map((d) => ({ d: String(d.domain), n: sim.groundTruth(String(d.domain), window).length }));
  sized.sort((a, b) => b.n - a.n);
  return sized[0]!.d;
}
