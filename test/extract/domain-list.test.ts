import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { domainListRefreshReason } from '../../pipeline/extract/domain-list.ts';
import { runIngest } from '../../pipeline/extract/run-ingest.ts';
import type { IngestSummary } from '../../pipeline/extract/ingest-summary.ts';
import { NetSapiensClient } from '../../pipeline/source/netsapiens-client.ts';
import { startSimulator, type RunningSimulator } from '../../pipeline/simulator/index.ts';
import { readDomainList, withState } from '../../pipeline/state/index.ts';
import { FixedClock, systemClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { tempDir } from '../support/temp-dir.ts';
import { testConfig } from '../support/test-config.ts';
import { lakeRows, truthRows } from './harness.ts';

const NOW = new Date('2026-11-27T12:00:00Z');
const TICK_MS = 15 * 60_000;
const HOUR_MS = 3_600_000;
const config = testConfig({ ingest: { initialBackfillDays: 3, pageSize: 100 } });

describe('domainListRefreshReason', () => {
  const stored = { domains: ['a.example'], fetchedAt: new Date(NOW.getTime() - 30 * 60_000) };
  it('serves a recent stored list, and asks the API for a backfill, an old or missing list, or when told to always ask', () => {
    expect(domainListRefreshReason(stored, NOW, { maxAgeMinutes: 60, backfill: false })).toBeUndefined();
    expect(domainListRefreshReason(stored, NOW, { maxAgeMinutes: 60, backfill: true })).toMatch(/backfill/);
    expect(domainListRefreshReason(stored, NOW, { maxAgeMinutes: 30, backfill: false })).toMatch(/30 min old/);
    expect(domainListRefreshReason(undefined, NOW, { maxAgeMinutes: 60, backfill: false })).toMatch(/no stored list/);
    expect(domainListRefreshReason(stored, NOW, { maxAgeMinutes: 0, backfill: false })).toMatch(/is 0/);
    expect(domainListRefreshReason(stored, new Date(NOW.getTime() - HOUR_MS), { maxAgeMinutes: 60, backfill: false })).toMatch(/after now/);
  });
});

describe('the stored domain list of incremental ticks', () => {
  let sim: RunningSimulator;
  let clock: FixedClock;
  let dir: string;
  beforeAll(async () => {
    clock = new FixedClock(NOW);
    sim = await startSimulator({ seed: 5, domains: 3, strict: true, clock });
    dir = await tempDir('cdrpipe-domain-list-');
  });
  afterAll(() => sim.close());

  async function tick(): Promise<{ s: IngestSummary; listRequests: number }> {
    const before = sim.stats().byEndpoint.domains ?? 0;
    const source = NetSapiensClient.create({
      baseUrl: sim.url,
      auth: { kind: 'api-key', apiKey: 'nsr_reseller' },
      clock: systemClock,
      retry: { baseDelayMs: 1, maxDelayMs: 20, retryAfterCapMs: 100, maxAttempts: 20 },
    });
    const s = await runIngest({ dataDir: dir, config, source, clock, logger: silentLogger() });
    return { s, listRequests: (sim.stats().byEndpoint.domains ?? 0) - before };
  }

  it('is read instead of GET /domains until it is an hour old', async () => {
    const first = await tick();
    expect(first.s.domainList).toMatchObject({ source: 'api', reason: 'no stored list' });
    expect(first.listRequests).toBe(1);
    clock.advance(TICK_MS);
    const second = await tick();
    expect(second.s.domainList).toEqual({ source: 'stored', fetchedAt: NOW.toISOString() });
    expect(second.listRequests).toBe(0);
    expect(second.s.domains).toBe(3);
    clock.advance(HOUR_MS);
    const third = await tick();
    expect(third.s.domainList).toMatchObject({ source: 'api', reason: expect.stringMatching(/min old/) });
    expect(third.listRequests).toBe(1);
    expect((await withState(dir, readDomainList))?.fetchedAt).toEqual(clock.now());
  });

  it('takes on a domain created mid-month the moment a reseller-wide record names it, without dropping its records', async () => {
    clock.advance(TICK_MS);
    const domain = 'newco.example';
    sim.addDomain({ domain, generate: false });
    const at = (hoursAgo: number) => new Date(clock.now().getTime() - hoursAgo * HOUR_MS).toISOString();
    const record = (id: string, start: string) => ({
      id,
      domain,
      'call-start-datetime': start,
      'call-direction': 0,
      'call-total-duration-seconds': 30,
    });
    // One call inside the tick's shared range, one older (the new domain's own range, read alone).
    sim.addCdrs(domain, [record('new-1', at(1)), record('new-2', at(60))]);
    const { s, listRequests } = await tick();
    expect(s.anomalies).toEqual([]);
    expect(s.failures).toEqual([]);
    expect(s.resellerWide).toMatchObject({ used: true, domainsReadAlone: 1 });
    expect(s.domainList).toMatchObject({ source: 'api', reason: expect.stringMatching(/named a domain the stored list lacks/) });
    expect(listRequests).toBe(1);
    expect(s.domains).toBe(4);
    const names = sim.domains().map((d) => String(d.domain));
    expect(s.watermarks[domain]).toBe(s.watermarks[names[0]!]);
    const lake = await lakeRows(dir);
    expect(lake.filter((r) => r.domain === domain).map((r) => r.id)).toEqual(['new-1', 'new-2']);
    const truth = truthRows(sim, { start: new Date(NOW.getTime() - 3 * 86_400_000), end: new Date(clock.now().getTime() - TICK_MS) });
    expect(lake.map((r) => [r.domain, r.id])).toEqual(truth.map((r) => [r.domain, r.id]));
    expect((await withState(dir, readDomainList))?.domains).toContain(domain);

    // The next tick reads the list the refresh stored, new domain included.
    clock.advance(TICK_MS);
    const next = await tick();
    expect(next.listRequests).toBe(0);
    expect(next.s.domains).toBe(4);
    expect(next.s.resellerWide).toMatchObject({ used: true, domainsReadAlone: 0 });
  });
});
