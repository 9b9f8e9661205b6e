import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runIngest } from '../../pipeline/extract/run-ingest.ts';
import { IngestIncompleteError, type IngestSummary } from '../../pipeline/extract/ingest-summary.ts';
import { Db, sqlString } from '../../pipeline/db/duckdb.ts';
import { rejectsDir } from '../../pipeline/lake/layout.ts';
import { NetSapiensClient } from '../../pipeline/source/netsapiens-client.ts';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../pipeline/simulator/index.ts';
import { FixedClock, systemClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { tempDir } from '../support/temp-dir.ts';
import { testConfig } from '../support/test-config.ts';
import { lakeRows, truthRows } from './harness.ts';

const NOW = new Date('2026-11-27T12:00:00Z');
const TICK_MS = 15 * 60_000;
// Small pages: several per window without a large (slow) data set.
const PAGE = 100;
const config = testConfig({ ingest: { initialBackfillDays: 3, pageSize: PAGE } });

function clientFor(sim: RunningSimulator, apiKey: string): NetSapiensClient {
  return NetSapiensClient.create({
    baseUrl: sim.url,
    auth: { kind: 'api-key', apiKey },
    clock: systemClock,
    retry: { baseDelayMs: 1, maxDelayMs: 20, retryAfterCapMs: 100, maxAttempts: 20 },
    timeoutMs: 10_000,
  });
}

async function tick(sim: RunningSimulator, clock: FixedClock, dir: string, apiKey: string): Promise<IngestSummary> {
  return runIngest({ dataDir: dir, config, source: clientFor(sim, apiKey), clock, logger: silentLogger() });
}

/** Requests by endpoint the simulator served while `fn` ran. */
async function counting<T>(sim: RunningSimulator, fn: () => Promise<T>): Promise<{ result: T; by: Record<string, number> }> {
  const before = sim.stats().byEndpoint;
  const result = await fn();
  const after = sim.stats().byEndpoint;
  const by: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) by[k] = v - (before[k] ?? 0);
  return { result, by };
}

async function startSim(opts: Partial<SimulatorOptions> = {}): Promise<{ sim: RunningSimulator; clock: FixedClock }> {
  const clock = new FixedClock(NOW);
  const sim = await startSimulator({ seed: 11, domains: 6, strict: true, clock, ...opts });
  return { sim, clock };
}

/** Every domain's ground truth from the first tick's start to now minus the settle time. */
function truthSince(sim: RunningSimulator, clock: FixedClock) {
  return truthRows(sim, { start: new Date(NOW.getTime() - 3 * 86_400_000), end: new Date(clock.now().getTime() - 15 * 60_000) });
}

describe('incremental ticks through the reseller-wide /cdrs', () => {
  let sim: RunningSimulator;
  let clock: FixedClock;
  /** The reseller-wide data directory: each test ticks on from where the one before left it. */
  let wide: string;
  beforeAll(async () => {
    ({ sim, clock } = await startSim({ domains: 4, volume: 3 }));
    wide = await tempDir('cdrpipe-reseller-');
  });
  afterAll(() => sim.close());

  it('store the same lake and watermarks as per-domain ticks, in counts + ceil(rows / page size) pages', async () => {
    const alone = await tempDir('cdrpipe-per-domain-');
    const summaries: IngestSummary[] = [];
    for (let i = 0; i < 2; i++) {
      if (i > 0) clock.advance(TICK_MS);
      const w = await counting(sim, () => tick(sim, clock, wide, 'nsr_reseller'));
      const a = await counting(sim, () => tick(sim, clock, alone, 'nsd_tenant'));
      expect(w.result.resellerWide).toMatchObject({ used: true, domainsReadAlone: 0 });
      expect(a.result.resellerWide).toMatchObject({ used: false, reason: expect.stringMatching(/domain-scoped/) });
      // The reseller-wide run asks no domain endpoint for CDRs; the per-domain one no reseller-wide endpoint.
      expect(w.by.cdrs ?? 0).toBe(0);
      expect(w.by['cdrs-count'] ?? 0).toBe(0);
      expect(a.by['reseller-cdrs'] ?? 0).toBe(0);
      // Minimum: one count per window (the first doubles as the scope probe) and
      // floor(rows / page size) + 1 pages per non-empty window (the last page proves the end);
      // the domain list only on the first tick (the next one reads the list it stored).
      const s = w.result;
      expect(s.windows).toBe(1);
      expect(s.domainList?.source).toBe(i === 0 ? 'api' : 'stored');
      expect(w.by.domains ?? 0).toBe(i === 0 ? 1 : 0);
      expect(s.requests).toBe((i === 0 ? 1 : 0) + 1 + Math.floor(s.rowsFetched / PAGE) + 1);
      expect(s.requests).toBeLessThan(a.result.requests);
      expect(s.watermarks).toEqual(a.result.watermarks);
      summaries.push(s);
    }
    expect(summaries[0]!.rowsFetched).toBeGreaterThan(2 * PAGE);
    const rows = await lakeRows(wide);
    expect(rows).toEqual(await lakeRows(alone));
    expect(rows.map((r) => [r.domain, r.id, r.raw])).toEqual(truthSince(sim, clock).map((r) => [r.domain, r.id, r.raw]));
  });

  it('quarantines a record whose domain names no domain of the run, and writes nothing under that name', async () => {
    const dir = wide;
    clock.advance(TICK_MS);
    const domain = String(sim.domains()[0]!.domain);
    const start = new Date(clock.now().getTime() - 3_600_000).toISOString();
    sim.addCdrs(domain, [
      { id: 'evil-1', domain: '../../etc', 'call-start-datetime': start, 'call-direction': 0, 'call-total-duration-seconds': 5 },
      { id: 'evil-2', 'call-start-datetime': start, 'call-direction': 0, 'call-total-duration-seconds': 5 },
    ]);
    try {
      const err = await tick(sim, clock, dir, 'nsr_reseller').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IngestIncompleteError);
      const s = (err as IngestIncompleteError).summary;
      expect(s.resellerWide?.used).toBe(true);
      expect(s.anomalies.map((a) => [a.domain, a.kind, a.got])).toEqual([['*', 'unknown-domain', 2]]);
      expect(s.failures).toEqual([]);
      const rows = await lakeRows(dir);
      expect(rows.some((r) => r.id.startsWith('evil'))).toBe(false);
      const months = await readdir(join(dir, 'lake', 'cdrs'));
      for (const m of months) expect((await readdir(join(dir, 'lake', 'cdrs', m))).every((d) => !d.includes('etc'))).toBe(true);
      const db = await Db.open(':memory:');
      try {
        const rejects = await db.all<{ domain: string; reason: string }>(
          `SELECT domain, reason FROM read_parquet(${sqlString(join(rejectsDir(dir), '*.parquet'))}) ORDER BY reason`,
        );
        expect(rejects.map((r) => r.domain)).toEqual(['*', '*']);
        expect(rejects[0]!.reason).toMatch(/\.\.\/\.\.\/etc/);
      } finally {
        db.close();
      }
    } finally {
      sim.removeCdr(domain, 'evil-1');
      sim.removeCdr(domain, 'evil-2');
    }
  });

  it('a short reseller-wide answer is an anomaly of every domain: nothing deleted, no watermark moves', async () => {
    const dir = wide;
    const before = await lakeRows(dir);
    const watermarks = await tick(sim, clock, dir, 'nsr_reseller').then(
      (s) => s.watermarks,
      (e: unknown) => (e as IngestIncompleteError).summary.watermarks,
    );
    clock.advance(TICK_MS);
    sim.setFaults({ answers: { listKeep: 2 } });
    try {
      const err = await tick(sim, clock, dir, 'nsr_reseller').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IngestIncompleteError);
      const s = (err as IngestIncompleteError).summary;
      expect(s.resellerWide?.used).toBe(true);
      expect(s.refetches).toBe(1);
      // Stored rows the short answer left out are kept and reported, as on a domain's own read.
      expect(s.anomalies.filter((a) => a.kind !== 'not-listed').map((a) => [a.domain, a.kind])).toEqual([['*', 'count-mismatch']]);
      expect(s.anomalies.some((a) => a.kind === 'not-listed')).toBe(true);
      expect(s.rowsRemoved).toBe(0);
      expect(s.watermarks).toEqual(watermarks);
      expect(await lakeRows(dir)).toEqual(before);
    } finally {
      sim.setFaults({});
    }
  });
});

describe('falling back to per-domain reads', () => {
  it('on a key without reseller scope (403) and on a server without /cdrs (404), with the same lake', async () => {
    const { sim, clock } = await startSim({ domains: 3 });
    const old = await startSimulator({ seed: 11, domains: 3, strict: true, clock, resellerEndpoints: false });
    try {
      const forbidden = await tempDir('cdrpipe-403-');
      const missing = await tempDir('cdrpipe-404-');
      const f = await tick(sim, clock, forbidden, 'plain-key');
      const m = await tick(old, clock, missing, 'nsr_reseller');
      expect(f.resellerWide).toMatchObject({ used: false, reason: expect.stringMatching(/HTTP 403/) });
      expect(m.resellerWide).toMatchObject({ used: false, reason: expect.stringMatching(/HTTP 404/) });
      expect(await lakeRows(forbidden)).toEqual(await lakeRows(missing));
      expect((await lakeRows(forbidden)).map((r) => [r.domain, r.id])).toEqual(truthSince(sim, clock).map((r) => [r.domain, r.id]));
    } finally {
      await sim.close();
      await old.close();
    }
  });
});
