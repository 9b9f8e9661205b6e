import { afterEach, describe, expect, it } from 'vitest';
import { Db, sqlString } from '../../pipeline/db/duckdb.ts';
import { rejectsDir, statePath } from '../../pipeline/lake/layout.ts';
import type { CdrSource, TimeWindow } from '../../pipeline/source/types.ts';
import { IngestIncompleteError } from '../../pipeline/extract/ingest-summary.ts';
import { lakeRows, NOW, OCT, startHarness, truthRows, type Harness } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** The real client with a hook on countCdrs (to observe order, or to disagree with the listing). */
function withCountHook(source: CdrSource, hook: (domain: string, window: TimeWindow, total: number) => number): CdrSource {
  return {
    listDomains: (o) => source.listDomains(o),
    countDomains: (o) => source.countDomains(o),
    countCdrs: async (domain, window, o) => {
      const c = await source.countCdrs(domain, window, o);
      return { ...c, total: hook(domain, window, c.total) };
    },
    fetchCdrPage: (d, w, off, lim, o) => source.fetchCdrPage(d, w, off, lim, o),
    listCdrs: (d, w, o) => source.listCdrs(d, w, o),
    stats: () => source.stats(),
  };
}

const sameRows = async (harness: Harness, window: { start: Date; end: Date }) => {
  const lake = await lakeRows(harness.dir);
  expect(lake.map((r) => ({ domain: r.domain, id: r.id, raw: r.raw }))).toEqual(truthRows(harness.sim, window));
};

describe('completeness, rejects, abort and fairness', () => {
  it('re-fetches a window whose rows disagree with the count once, then records an anomaly', async () => {
    h = await startHarness({ now: NOW, domains: 2 });
    const victim = String(h.sim.domains()[0]!.domain);
    let counts = 0;
    const source = withCountHook(h.client(), (domain, _w, total) => {
      if (domain === victim) counts++;
      return domain === victim ? total + 1 : total;
    });
    // The mismatch fails the run (exit 1) with the summary, which names the window.
    const err = await h.ingest({ source, from: OCT.start, to: OCT.end }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IngestIncompleteError);
    const s = (err as IngestIncompleteError).summary;
    expect((err as Error).message).toContain(`count-mismatch "${victim}" [${OCT.start.toISOString()}, ${OCT.end.toISOString()})`);
    expect(counts).toBe(2);
    expect(s.refetches).toBe(1);
    expect(s.anomalies).toHaveLength(1);
    expect(s.anomalies[0]).toMatchObject({
      domain: victim,
      kind: 'count-mismatch',
      windowStart: OCT.start.toISOString(),
      windowEnd: OCT.end.toISOString(),
    });
    expect(s.anomalies[0]!.expected).toBe(s.anomalies[0]!.got! + 1);
    await sameRows(h, OCT);
    const db = await Db.open(statePath(h.dir), { readOnly: true });
    try {
      expect(await db.all(`SELECT domain, kind, expected::INTEGER - got::INTEGER AS diff, resolved_at FROM anomalies`)).toEqual([
        { domain: victim, kind: 'count-mismatch', diff: 1, resolved_at: null },
      ]);
    } finally {
      db.close();
    }
    // The API agrees again later: the anomaly is resolved by the next run over that window.
    await h.ingest({ from: OCT.start, to: OCT.end });
    const db2 = await Db.open(statePath(h.dir), { readOnly: true });
    try {
      expect((await db2.all(`SELECT resolved_at IS NOT NULL AS resolved FROM anomalies`))[0]).toEqual({ resolved: true });
    } finally {
      db2.close();
    }
  });

  it('sends invalid records to lake/rejects with their reason and keeps the rest exact', async () => {
    h = await startHarness({ now: NOW, domains: 1 });
    const d = String(h.sim.domains()[0]!.domain);
    const template = h.sim.groundTruth(d, OCT)[0]!;
    h.sim.addCdrs(d, [{ ...template, id: 'bad-direction', 'call-direction': 9 }]);
    const s = await h.ingest({ from: OCT.start, to: OCT.end });
    expect(s.rejects).toBe(1);
    expect(s.anomalies).toEqual([]);
    const lake = await lakeRows(h.dir);
    const truth = truthRows(h.sim, OCT).filter((r) => r.id !== 'bad-direction');
    expect(lake.map((r) => ({ domain: r.domain, id: r.id, raw: r.raw }))).toEqual(truth);
    const db = await Db.open(':memory:');
    try {
      const rows = await db.all<{ domain: string; reason: string; raw_text: string }>(
        `SELECT domain, reason, raw_text FROM read_parquet(${sqlString(rejectsDir(h.dir) + '/*.parquet')})`,
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]!.domain).toBe(d);
      expect(rows[0]!.reason).toMatch(/call-direction/);
      expect(JSON.parse(rows[0]!.raw_text).id).toBe('bad-direction');
    } finally {
      db.close();
    }
  });

  it('an aborted run finishes the windows in flight, flushes them, and the next run completes the range', async () => {
    h = await startHarness({ now: NOW, domains: 4 }, { maxWindowDays: 3 });
    const controller = new AbortController();
    const s = await h.ingest({
      from: OCT.start,
      to: OCT.end,
      concurrency: 1,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done >= 3) controller.abort();
      },
    });
    expect(s.interrupted).toBe(true);
    expect(s.windows).toBeLessThan(4 * 11);
    const partial = await lakeRows(h.dir);
    expect(partial.length).toBeGreaterThan(0);
    // What is in the lake is exactly the truth for the ranges it covers (no partial windows).
    const truthIds = new Set(truthRows(h.sim, OCT).map((r) => `${r.domain}/${r.id}`));
    for (const r of partial) expect(truthIds.has(`${r.domain}/${r.id}`)).toBe(true);
    const again = await h.ingest({ from: OCT.start, to: OCT.end });
    expect(again.interrupted).toBe(false);
    await sameRows(h, OCT);
  });

  it('serves domains round-robin: a domain with many windows does not delay the others', async () => {
    h = await startHarness({ now: NOW, domains: 3 }, { maxWindowDays: 1 });
    const domains = h.sim.domains().map((d) => String(d.domain));
    const order: string[] = [];
    const source = withCountHook(h.client(), (domain, _w, total) => {
      order.push(domain);
      return total;
    });
    // 31 one-day windows per domain: first-come-first-served would make the last domain wait for
    // 62 windows; round-robin starts every domain within the first three.
    const s = await h.ingest({ source, from: OCT.start, to: OCT.end, concurrency: 1, domains });
    expect(s.windows).toBe(3 * 31);
    const firstSeen = domains.map((d) => order.indexOf(d));
    expect(Math.max(...firstSeen)).toBeLessThan(3);
    await sameRows(h, OCT);
  });

  it('runs one ingest per data directory at a time', async () => {
    h = await startHarness({ now: NOW, domains: 2 });
    const [a, b] = await Promise.allSettled([h.ingest({ from: OCT.start, to: OCT.end }), h.ingest({ from: OCT.start, to: OCT.end })]);
    const outcomes = [a, b].map((r) => r.status);
    expect(outcomes.sort()).toEqual(['fulfilled', 'rejected']);
    const rejected = [a, b].find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(String(rejected.reason)).toMatch(/another ingest \(pid \d+\) is writing/);
    await sameRows(h, OCT);
    // Released afterwards.
    await expect(h.ingest({ from: OCT.start, to: OCT.end })).resolves.toMatchObject({ partitionsUnchanged: 2 });
  });
});
