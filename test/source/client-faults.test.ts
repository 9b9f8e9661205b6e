import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type FaultOptions, type RunningSimulator } from '../../pipeline/simulator/index.ts';
import type { NetSapiensClient } from '../../pipeline/source/netsapiens-client.ts';
import { realSleep, type SleepFn } from '../../pipeline/util/sleep.ts';
import { NetSapiensBodyError, NetSapiensHttpError, NetSapiensTransportError } from '../../pipeline/source/source-errors.ts';
import type { CdrPage, TimeWindow } from '../../pipeline/source/types.ts';
import { FixedClock, systemClock } from '../../pipeline/util/clock.ts';
import { collect, SIM_NOW, testClient, virtualTime, WEEK } from './helpers.ts';

/** id, start and duration: a lost, duplicated, misdated or stale record shows up as a difference. */
const truth = (sim: RunningSimulator, d: string, w: TimeWindow, asOf?: Date) =>
  sim
    .groundTruth(d, w, asOf ? { asOf } : undefined)
    .map((r) => `${String(r.id)}@${new Date(String(r['call-start-datetime'])).toISOString()}#${String(r['call-total-duration-seconds'])}`);
const got = (pages: CdrPage[]) => pages.flatMap((p) => p.cdrs.map((c) => `${c.id}@${c.startTime.toISOString()}#${c.durationS}`));

async function readAll(client: NetSapiensClient, sim: RunningSimulator, w: TimeWindow, pageSize: number): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const d of await client.listDomains()) out.set(d.domain, got(await collect(client.listCdrs(d.domain, w, { pageSize }))));
  expect([...out.keys()].sort()).toEqual(
    sim
      .domains()
      .map((d) => String(d.domain))
      .sort(),
  );
  return out;
}

function expectMatchesTruth(sim: RunningSimulator, read: Map<string, string[]>, w: TimeWindow): void {
  let n = 0;
  for (const [d, keys] of read) {
    expect(keys, d).toEqual(truth(sim, d, w));
    n += keys.length;
  }
  expect(n).toBeGreaterThan(100);
}

describe('every fault kind is recovered without losing or duplicating a record', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 21, domains: 4, volume: 3, clock: new FixedClock(SIM_NOW) });
  });
  afterAll(() => sim.close());
  afterEach(() => sim.setFaults({}));

  const cases: Array<[string, FaultOptions, string]> = [
    ['HTTP 500/502/503', { seed: 1, errorRate: 0.3 }, '5xx'],
    ['dropped connections', { seed: 2, dropRate: 0.3 }, 'network'],
    ['truncated bodies', { seed: 3, truncateRate: 0.3 }, 'bad-body'],
  ];
  it.each(cases)('%s', async (_label, faults, reason) => {
    sim.setFaults(faults);
    const t = virtualTime(SIM_NOW);
    const client = testClient(sim.url, { clock: t.clock, sleep: t.sleep });
    expectMatchesTruth(sim, await readAll(client, sim, WEEK, 10), WEEK);
    expect(client.stats().retriesByReason[reason]).toBeGreaterThan(0);
    expect(Object.values(sim.stats().faultsInjected).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });

  it('all of them at once, with pages fetched concurrently', async () => {
    sim.setFaults({ seed: 4, errorRate: 0.15, dropRate: 0.1, truncateRate: 0.1 });
    const t = virtualTime(SIM_NOW);
    const client = testClient(sim.url, { clock: t.clock, sleep: t.sleep, maxConcurrentRequests: 4 });
    const domains = await client.listDomains();
    const read = new Map<string, string[]>();
    await Promise.all(
      domains.map(async ({ domain }) => {
        const { total } = await client.countCdrs(domain, WEEK);
        const offsets = Array.from({ length: Math.floor(total / 10) + 1 }, (_, i) => i * 10);
        const pages = await Promise.all(offsets.map((o) => client.fetchCdrPage(domain, WEEK, o, 10)));
        read.set(domain, got(pages));
      }),
    );
    expectMatchesTruth(sim, read, WEEK);
    const s = client.stats();
    expect(s.retries).toBe(Object.values(s.retriesByReason).reduce((a, b) => a + b, 0));
    expect(s.retriesByReason['5xx']).toBeGreaterThan(0);
    expect(s.retriesByReason.network).toBeGreaterThan(0);
    expect(s.retriesByReason['bad-body']).toBeGreaterThan(0);
  });

  it('a pinned clock (tests, demo) never stalls backoff or the rate cap: waits use real time', async () => {
    sim.setFaults({ seed: 5, errorRate: 0.3, rateLimit: { requestsPerSecond: 1000, retryAfterSeconds: 0 } });
    const d = String(sim.domains()[2]!.domain);
    const client = testClient(sim.url, { clock: new FixedClock(SIM_NOW), requestsPerSecond: 500 });
    expect(got(await collect(client.listCdrs(d, WEEK, { pageSize: 5 })))).toEqual(truth(sim, d, WEEK));
    expect(client.stats().retriesByReason['5xx']).toBeGreaterThan(0);
  });

  it('timeouts: a slow answer is abandoned and retried', async () => {
    sim.setFaults({ latencyMs: 2_000 });
    const d = String(sim.domains()[0]!.domain);
    // The fault clears when the client backs off after its first timeout.
    const sleep: SleepFn = async (ms, signal) => {
      sim.setFaults({});
      await realSleep(ms, signal);
    };
    const client = testClient(sim.url, { timeoutMs: 150, sleep });
    expect(got(await collect(client.listCdrs(d, WEEK)))).toEqual(truth(sim, d, WEEK));
    // One timeout; on a very busy machine a later answer may miss 150 ms too, never anything else.
    expect(Object.keys(client.stats().retriesByReason)).toEqual(['timeout']);
    expect(client.stats().retriesByReason.timeout).toBeGreaterThanOrEqual(1);
  });

  it('429 with Retry-After in seconds: honoured exactly, for everybody (the gate)', async () => {
    sim.setFaults({ rateLimit: { requestsPerSecond: 10, retryAfterSeconds: 1 } });
    const d = String(sim.domains()[1]!.domain);
    // Real waits, because the simulator counts requests per wall-clock second.
    const t = virtualTime(SIM_NOW, 1000);
    const client = testClient(sim.url, { clock: t.clock, sleep: t.sleep, random: () => 0 });
    const offsets = Array.from({ length: 15 }, (_, i) => i * 3);
    const pages = await Promise.all(offsets.map((o) => client.fetchCdrPage(d, WEEK, o, 3)));
    expect(got(pages)).toEqual(truth(sim, d, WEEK).slice(0, 45));
    expect(client.stats().retriesByReason['429']).toBeGreaterThan(0);
    expect(t.sleeps[0]).toBe(1000);
    expect(new Set(t.sleeps.filter((ms) => ms > 0))).toEqual(new Set([1000]));
  });

  it('429 with Retry-After as an HTTP date', async () => {
    sim.setFaults({ rateLimit: { requestsPerSecond: 10, retryAfterSeconds: 1, httpDate: true } });
    const d = String(sim.domains()[1]!.domain);
    const sleeps: number[] = [];
    const sleep: SleepFn = (ms, signal) => {
      sleeps.push(ms);
      return realSleep(ms, signal);
    };
    // random 0: without Retry-After the backoff would be 0 ms, so any wait comes from the date.
    const client = testClient(sim.url, { clock: systemClock, sleep, random: () => 0 });
    const offsets = Array.from({ length: 15 }, (_, i) => i * 3);
    const pages = await Promise.all(offsets.map((o) => client.fetchCdrPage(d, WEEK, o, 3)));
    expect(got(pages)).toEqual(truth(sim, d, WEEK).slice(0, 45));
    expect(client.stats().retriesByReason['429']).toBeGreaterThan(0);
    expect(sleeps.length).toBeGreaterThan(0);
    for (const ms of sleeps) expect(ms).toBeLessThanOrEqual(1000);
  });
});

describe('late and corrected CDRs', () => {
  // Wednesday 23:00 UTC: the US business day just ended, many calls are still "arriving".
  const T = new Date('2026-11-25T23:00:00Z');
  const window: TimeWindow = { start: new Date('2026-11-25T11:00:00Z'), end: T };
  let sim: RunningSimulator;
  let clock: FixedClock;
  beforeAll(async () => {
    clock = new FixedClock(T);
    sim = await startSimulator({
      seed: 22,
      domains: 3,
      volume: 3,
      clock,
      faults: { late: { share: 0.3, delayMs: 6 * 3_600_000 }, updates: { share: 0.2, delayMs: 3_600_000 } },
    });
  });
  afterAll(() => sim.close());

  it('a re-read of the same window sees late arrivals and corrections, as the ground truth does', async () => {
    const client = testClient(sim.url);
    const first = await readAll(client, sim, window, 50);
    expectMatchesTruth(sim, first, window);
    clock.advance(7 * 3_600_000);
    const second = await readAll(client, sim, window, 50);
    expectMatchesTruth(sim, second, window);
    const firstCount = [...first.values()].reduce((a, k) => a + k.length, 0);
    const secondCount = [...second.values()].reduce((a, k) => a + k.length, 0);
    expect(secondCount).toBeGreaterThan(firstCount);
    const changed = [...second.values()].flat().filter((k) => ![...first.values()].flat().includes(k));
    expect(changed.length).toBeGreaterThan(secondCount - firstCount); // late ones plus corrected versions
  });
});

describe('faults that outlast the attempt budget give typed errors', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 23, domains: 1, clock: new FixedClock(SIM_NOW) });
  });
  afterAll(() => sim.close());
  afterEach(() => sim.setFaults({}));
  const budget = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2, retryAfterCapMs: 5 };
  const d = () => String(sim.domains()[0]!.domain);

  it('a body that never parses: NetSapiensBodyError', async () => {
    sim.setFaults({ truncateRate: 1, maxConsecutive: 1_000 });
    const t = virtualTime(SIM_NOW);
    const client = testClient(sim.url, { retry: budget, clock: t.clock, sleep: t.sleep });
    const err = await client.fetchCdrPage(d(), WEEK, 0, 100).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetSapiensBodyError);
    expect(err).toMatchObject({ attempts: 3, method: 'GET' });
    expect((err as Error).message).toMatch(/not valid JSON/);
    expect(client.stats()).toMatchObject({ requests: 3, retries: 2, retriesByReason: { 'bad-body': 2 } });
  });

  it('a server that keeps answering 503: NetSapiensHttpError after the budget', async () => {
    sim.setFaults({ errorRate: 1, errorStatuses: [503], maxConsecutive: 1_000 });
    const t = virtualTime(SIM_NOW);
    const client = testClient(sim.url, { retry: budget, clock: t.clock, sleep: t.sleep });
    const err = await client.countCdrs(d(), WEEK).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetSapiensHttpError);
    expect(err).toMatchObject({ status: 503, attempts: 3, serverMessage: 'Service temporarily unavailable' });
    expect((err as Error).message).toMatch(/after 3 attempts/);
  });

  it('connections that keep dropping: NetSapiensTransportError (network)', async () => {
    sim.setFaults({ dropRate: 1, maxConsecutive: 1_000 });
    const client = testClient(sim.url, { retry: budget });
    const err = await client.countDomains().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetSapiensTransportError);
    expect(err).toMatchObject({ reason: 'network', attempts: 3 });
  });

  it('answers that never come in time: NetSapiensTransportError (timeout)', async () => {
    sim.setFaults({ latencyMs: 200 });
    const client = testClient(sim.url, { retry: { ...budget, maxAttempts: 2 }, timeoutMs: 20 });
    const err = await client.countDomains().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetSapiensTransportError);
    expect(err).toMatchObject({ reason: 'timeout', attempts: 2 });
  });

  it('an abort stops a request that is backing off, at once', async () => {
    sim.setFaults({ errorRate: 1, maxConsecutive: 1_000 });
    const controller = new AbortController();
    // A backoff of a minute, aborted the moment the client starts waiting.
    const sleep: SleepFn = (ms, signal) => {
      controller.abort(new Error('operator pressed ctrl-c'));
      return realSleep(ms, signal);
    };
    const client = testClient(sim.url, {
      sleep,
      retry: { maxAttempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000, retryAfterCapMs: 60_000 },
      random: () => 0.99,
    });
    const err = await client.countDomains({ signal: controller.signal }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('operator pressed ctrl-c');
    expect(client.stats().requests).toBe(1);
  });
});
