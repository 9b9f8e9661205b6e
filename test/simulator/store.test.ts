import { describe, expect, it } from 'vitest';
import { CdrStore, renderEntries } from '../../pipeline/simulator/cdr-store.ts';
import { generateDomains } from '../../pipeline/simulator/domain-gen.ts';
import { WeightedLru } from '../../pipeline/simulator/lru.ts';

const range = { fromMs: Date.parse('2026-10-01T00:00:00Z'), toMs: Date.parse('2026-10-15T00:00:00Z'), endInclusive: false };
const vis = { nowMs: Date.parse('2026-11-01T00:00:00Z') };

function storeWith(maxCachedRecords: number): { store: CdrStore; domain: string } {
  const store = new CdrStore({ seed: 3, volume: 2, dataFromMs: Date.parse('2026-09-01T00:00:00Z'), dataToMs: Infinity, maxCachedRecords });
  const [p] = generateDomains({ seed: 3, count: 1 });
  store.addDomain(p!);
  return { store, domain: p!.domain };
}

describe('CdrStore', () => {
  it('serves the same bytes whether a day comes from the cache or is generated again', () => {
    const big = storeWith(1_000_000);
    const tiny = storeWith(10);
    const a = renderEntries(big.store.select(big.domain, range, vis, 0, 100_000), { kind: 'utc-z' });
    const b = renderEntries(tiny.store.select(tiny.domain, range, vis, 0, 100_000), { kind: 'utc-z' });
    const again = renderEntries(tiny.store.select(tiny.domain, range, vis, 0, 100_000), { kind: 'utc-z' });
    expect(b.equals(a)).toBe(true);
    expect(again.equals(a)).toBe(true);
    expect(tiny.store.cacheStats().days).toBeLessThanOrEqual(1);
    expect((JSON.parse(a.toString()) as unknown[]).length).toBeGreaterThan(50);
  });
  it('clips generated data to the data range', () => {
    const { store, domain } = storeWith(1000);
    expect(store.totals(domain, { fromMs: 0, toMs: Date.parse('2026-09-01T00:00:00Z'), endInclusive: false }, vis).total).toBe(0);
  });
});

describe('WeightedLru', () => {
  it('evicts least recently used entries beyond the weight budget', () => {
    const lru = new WeightedLru<string, number[]>(5, (v) => v.length);
    lru.set('a', [1, 2]);
    lru.set('b', [1, 2]);
    lru.get('a');
    lru.set('c', [1, 2]);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toEqual([1, 2]);
    expect(lru.weight).toBe(4);
  });
});

describe('pageBodies', () => {
  it('yields the bytes the API serves, page by page, without HTTP', async () => {
    const { pageBodies } = await import('../../pipeline/simulator/page-bodies.ts');
    const { startSimulator } = await import('../../pipeline/simulator/index.ts');
    const { FixedClock } = await import('../../pipeline/util/clock.ts');
    const window = { start: new Date('2026-10-05T00:00:00Z'), end: new Date('2026-10-12T00:00:00Z') };
    const pages = [...pageBodies({ seed: 9, domains: 2, volume: 3, window, pageSize: 200 })];
    const sim = await startSimulator({ seed: 9, domains: 2, volume: 3, clock: new FixedClock(new Date('2026-11-01T00:00:00Z')) });
    try {
      for (const page of pages) {
        const res = await fetch(
          `${sim.url}/domains/${page.domain}/cdrs?datetime-start=2026-10-05T00:00:00Z&datetime-end=2026-10-11T23:59:59Z&start=${page.offset}&limit=200`,
          { headers: { authorization: 'Bearer x' } },
        );
        expect(Buffer.from(await res.arrayBuffer()).equals(page.body)).toBe(true);
      }
      expect(pages.reduce((n, p) => n + p.records, 0)).toBe(
        sim.profiles().reduce((n, p) => n + sim.groundTruthCount(p.domain, window).total, 0),
      );
    } finally {
      await sim.close();
    }
  });
});
