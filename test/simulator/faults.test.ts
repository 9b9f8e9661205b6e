import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../pipeline/simulator/index.ts';
import type { FixedClock } from '../../pipeline/util/clock.ts';
import { get, NOW, q, start } from './helpers.ts';

let sim: RunningSimulator;
let clock: FixedClock;
let busy: string;
const day = { 'datetime-start': '2026-11-10T00:00:00Z', 'datetime-end': '2026-11-11T00:00:00Z' };

beforeAll(async () => {
  ({ sim, clock } = await start({ domains: 4, volume: 5 }));
  busy = [...sim.profiles()].sort((a, b) => b.callsPerBusinessDay - a.callsPerBusinessDay)[0]!.domain;
});
afterAll(async () => {
  await sim.close();
});

/** Status of one attempt, or 'network' when the connection broke. */
async function attempt(path: string): Promise<number | 'network' | 'bad-json'> {
  try {
    const res = await fetch(sim.url + path, { headers: { authorization: 'Bearer x' } });
    const text = await res.text();
    if (res.status === 200) {
      try {
        JSON.parse(text);
      } catch {
        return 'bad-json';
      }
    }
    return res.status;
  } catch {
    return 'network';
  }
}

describe('faults', () => {
  it('latency is applied to every request', async () => {
    sim.setFaults({ latencyMs: 5 });
    const before = sim.stats().faultsInjected.latency;
    await get(sim, '/domains');
    await get(sim, '/domains/count');
    expect(sim.stats().faultsInjected.latency - before).toBe(2);
  });

  it('rate limit answers 429 with Retry-After in seconds or as an HTTP date', async () => {
    sim.setFaults({ rateLimit: { requestsPerSecond: 2, retryAfterSeconds: 0 } });
    const res = await Promise.all(
      Array.from({ length: 8 }, () => fetch(sim.url + '/domains/count', { headers: { authorization: 'Bearer x' } })),
    );
    const limited = res.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]!.headers.get('retry-after')).toBe('0');
    expect(await limited[0]!.json()).toMatchObject({ code: 429 });
    sim.setFaults({ rateLimit: { requestsPerSecond: 1, retryAfterSeconds: 1, httpDate: true } });
    const res2 = await Promise.all(
      Array.from({ length: 4 }, () => fetch(sim.url + '/domains/count', { headers: { authorization: 'Bearer x' } })),
    );
    const h = res2.find((r) => r.status === 429)!.headers.get('retry-after')!;
    expect(Number.isNaN(Date.parse(h))).toBe(false);
    expect(h).toMatch(/GMT$/);
  });

  it('injects 500/502/503 but lets a retrying client through', async () => {
    sim.setFaults({ errorRate: 1 });
    const path = `/domains/${busy}/cdrs` + q(day);
    const seen = [await attempt(path), await attempt(path), await attempt(path)];
    expect([500, 502, 503]).toContain(seen[0]);
    expect([500, 502, 503]).toContain(seen[1]);
    expect(seen[2]).toBe(200);
  });

  it('drops connections mid-response', async () => {
    sim.setFaults({ dropRate: 1, maxConsecutive: 1 });
    const path = `/domains/${busy}/cdrs` + q({ ...day, limit: 500 });
    expect(await attempt(path)).toBe('network');
    expect(await attempt(path)).toBe(200);
    expect(sim.stats().faultsInjected.drop).toBeGreaterThan(0);
  });

  it('truncates JSON bodies of 200 answers', async () => {
    sim.setFaults({ truncateRate: 1, maxConsecutive: 1 });
    const path = `/domains/${busy}/cdrs` + q(day);
    expect(await attempt(path)).toBe('bad-json');
    expect(await attempt(path)).toBe(200);
  });

  it('is deterministic for a fault seed, and only on chosen endpoints', async () => {
    const run = async (): Promise<Array<number | string>> => {
      sim.setFaults({ seed: 99, errorRate: 0.3, dropRate: 0.1, truncateRate: 0.1, endpoints: ['cdrs'] });
      const out: Array<number | string> = [];
      for (let i = 0; i < 30; i++) out.push(await attempt(`/domains/${busy}/cdrs` + q({ ...day, start: i, limit: 5 })));
      out.push(await attempt('/domains/count'));
      return out;
    };
    const a = await run();
    expect(await run()).toEqual(a);
    expect(a.filter((s) => s !== 200).length).toBeGreaterThan(3);
    expect(a[a.length - 1]).toBe(200);
  });

  it('late CDRs appear only a while after the call ended, consistently in list, count and ground truth', async () => {
    sim.setFaults({});
    const today = { 'datetime-start': '2026-11-27T00:00:00Z', 'datetime-end': '2026-11-27T23:59:59Z' };
    const window = { start: new Date('2026-11-27T00:00:00Z'), end: new Date('2026-11-28T00:00:00Z') };
    const onTime = ((await get(sim, `/domains/${busy}/cdrs/count` + q(today))).body as { total: number }).total;
    sim.setFaults({ late: { share: 0.5, delayMs: 24 * 3_600_000 } });
    const late = (await get(sim, `/domains/${busy}/cdrs/count` + q(today))).body as { total: number };
    expect(late.total).toBeLessThan(onTime);
    expect(sim.groundTruth(busy, window)).toHaveLength(late.total);
    expect(sim.stats().faultsInjected.late).toBeGreaterThan(0);
    // A day on, everything that had ended by noon is there.
    expect(
      sim
        .groundTruth(busy, window, { asOf: new Date(NOW.getTime() + 24 * 3_600_000) })
        .filter((r) => Date.parse(String(r['call-disconnect-datetime'])) <= NOW.getTime()),
    ).toHaveLength(onTime);
    sim.setFaults({});
  });

  it('updated CDRs change duration after first visibility', async () => {
    sim.setFaults({});
    const window = { start: new Date('2026-11-27T00:00:00Z'), end: new Date('2026-11-28T00:00:00Z') };
    const first = sim.groundTruth(busy, window);
    sim.setFaults({ updates: { share: 1, delayMs: 3_600_000 } });
    const later = sim.groundTruth(busy, window);
    expect(later.map((r) => r.id)).toEqual(first.map((r) => r.id));
    const ended = (r: Record<string, unknown>): number => Date.parse(String(r['call-disconnect-datetime']));
    const before = new Map(first.map((r) => [r.id, r]));
    let changed = 0;
    for (const r of later) {
      const v1 = before.get(r.id)!;
      if (ended(v1) + 3_600_000 <= NOW.getTime()) {
        expect(Number(r['call-total-duration-seconds'])).toBeGreaterThan(Number(v1['call-total-duration-seconds']));
        changed++;
      } else expect(r).toEqual(v1);
    }
    expect(changed).toBeGreaterThan(0);
    const count = (
      await get(
        sim,
        `/domains/${busy}/cdrs/count` + q({ 'datetime-start': '2026-11-27T00:00:00Z', 'datetime-end': '2026-11-27T23:59:59Z' }),
      )
    ).body as { seconds: number };
    expect(count.seconds).toBe(later.reduce((s, r) => s + Number(r['call-total-duration-seconds']), 0));
    expect(sim.stats().faultsInjected.update).toBeGreaterThan(0);
    sim.setFaults({});
    clock.set(NOW);
  });
});
