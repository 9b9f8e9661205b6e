import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../pipeline/simulator/index.ts';
import { get, q, start } from './helpers.ts';

const WINDOW = { 'datetime-start': '2026-11-02T00:00:00Z', 'datetime-end': '2026-11-03T00:00:00Z' };
type Rec = Record<string, unknown>;

/** API order across domains: start, then id, then domain. */
function byApiOrder(a: Rec, b: Rec): number {
  const k = (r: Rec) => [String(r['call-start-datetime']), String(r.id), String(r.domain)];
  const [x, y] = [k(a), k(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return 0;
}

describe('reseller-wide /cdrs and /cdrs/count', () => {
  let sim: RunningSimulator;
  let names: string[];
  beforeAll(async () => {
    ({ sim } = await start({ domainKeys: { nsd_first: 'placeholder' } }));
    names = sim.domains().map((d) => String(d.domain));
  });
  afterAll(() => sim.close());

  it("list every domain's records in API order, paged like a domain's, and count them", async () => {
    const perDomain: Rec[] = [];
    let total = 0;
    let seconds = 0;
    for (const d of names) {
      const r = await get(sim, `/domains/${d}/cdrs${q({ ...WINDOW, limit: 1000 })}`, 'nsr_k');
      perDomain.push(...(r.body as Rec[]));
      const c = (await get(sim, `/domains/${d}/cdrs/count${q(WINDOW)}`, 'nsr_k')).body as { total: number; seconds: number };
      total += c.total;
      seconds += c.seconds;
    }
    expect(perDomain.length).toBeGreaterThan(40);
    const paged: Rec[] = [];
    for (let offset = 0; ; offset += 17) {
      const page = (await get(sim, `/cdrs${q({ ...WINDOW, start: offset, limit: 17 })}`, 'nsr_k')).body as Rec[];
      paged.push(...page);
      if (page.length < 17) break;
    }
    expect(paged).toEqual([...perDomain].sort(byApiOrder));
    expect((await get(sim, `/cdrs/count${q(WINDOW)}`, 'nss_system')).body).toEqual({ total, seconds, minutes: Math.ceil(seconds / 60) });
    // Default limit 100, maximum 1000, datetimes in the request's form: as on a domain's list.
    expect(((await get(sim, `/cdrs${q(WINDOW)}`, 'nsr_k')).body as Rec[]).length).toBe(Math.min(100, total));
    expect((await get(sim, `/cdrs${q({ ...WINDOW, limit: 1001 })}`, 'nsr_k')).status).toBe(400);
    const bare = (
      await get(sim, `/cdrs${q({ 'datetime-start': '2026-11-02 00:00:00', 'datetime-end': '2026-11-03 00:00:00', limit: 1 })}`, 'nsr_k')
    ).body as Rec[];
    expect(bare[0]!['call-start-datetime']).toMatch(/^2026-11-02 \d\d:\d\d:\d\d$/);
  });

  it('answer 403 to domain keys and keys without a scope, and let a bound domain key see its own domain only', async () => {
    for (const key of ['nsd_any', 'x', 'nsd_first']) {
      expect((await get(sim, `/cdrs${q(WINDOW)}`, key)).status).toBe(403);
      expect((await get(sim, `/cdrs/count${q(WINDOW)}`, key)).status).toBe(403);
    }
    const own = names[0]!;
    const { sim: scoped } = await start({ domainKeys: { nsd_first: own } });
    try {
      expect((await get(scoped, '/domains', 'nsd_first')).body).toEqual([expect.objectContaining({ domain: own })]);
      expect((await get(scoped, `/domains/${own}/cdrs/count${q(WINDOW)}`, 'nsd_first')).status).toBe(200);
      expect((await get(scoped, `/domains/${names[1]!}/cdrs/count${q(WINDOW)}`, 'nsd_first')).status).toBe(403);
    } finally {
      await scoped.close();
    }
  });

  it('apply answer faults domain by domain and count requests under their own endpoint names', async () => {
    const before = sim.stats().byEndpoint;
    const truth = ((await get(sim, `/cdrs/count${q(WINDOW)}`, 'nsr_k')).body as { total: number }).total;
    sim.setFaults({ answers: { domain: names[0]!, listKeep: 1, countTotal: 0 } });
    try {
      const own = ((await get(sim, `/domains/${names[0]!}/cdrs/count${q(WINDOW)}`, 'nsr_k')).body as { total: number }).total;
      expect(own).toBe(0);
      const all = (await get(sim, `/cdrs${q({ ...WINDOW, limit: 1000 })}`, 'nsr_k')).body as Rec[];
      expect(all.filter((r) => r.domain === names[0]).length).toBe(1);
      const counted = ((await get(sim, `/cdrs/count${q(WINDOW)}`, 'nsr_k')).body as { total: number }).total;
      expect(counted).toBeLessThan(truth);
    } finally {
      sim.setFaults({});
    }
    const after = sim.stats().byEndpoint;
    expect((after['reseller-cdrs-count'] ?? 0) - (before['reseller-cdrs-count'] ?? 0)).toBe(2);
    expect((after['reseller-cdrs'] ?? 0) - (before['reseller-cdrs'] ?? 0)).toBe(1);
  });

  it('answer 404 where the server has no reseller-wide endpoints', async () => {
    const { sim: old } = await start({ resellerEndpoints: false });
    try {
      expect((await get(old, `/cdrs/count${q(WINDOW)}`, 'nsr_k')).status).toBe(404);
    } finally {
      await old.close();
    }
  });
});
