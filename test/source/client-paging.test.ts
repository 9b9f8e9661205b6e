import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type DatetimeFormat, type RunningSimulator } from '../../pipeline/simulator/index.ts';
import { UsageError } from '../../pipeline/util/errors.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import type { TimeWindow } from '../../pipeline/source/types.ts';
import { collect, pageKeys, SIM_NOW, testClient, truthKeys } from './helpers.ts';
import { sampleCdr } from './fixtures.ts';

const DAY: TimeWindow = { start: new Date('2026-11-10T00:00:00Z'), end: new Date('2026-11-11T00:00:00Z') };

/** n records spread over DAY, one every 40 s from its start, ids zero-padded so order is by start then id. */
function records(prefix: string, n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) =>
    sampleCdr({
      id: `${prefix}-${String(i).padStart(5, '0')}`,
      'call-start-datetime': new Date(DAY.start.getTime() + i * 40_000).toISOString().replace('.000Z', 'Z'),
      'call-answer-datetime': null,
      'call-disconnect-datetime': null,
      'call-total-duration-seconds': i % 300,
    }),
  );
}

describe('paging', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 31, domains: 1, clock: new FixedClock(SIM_NOW), strict: true });
  });
  afterAll(() => sim.close());

  it.each([0, 1, 999, 1000, 1001, 2000])('%i rows: every record once, pages of 1000, stop on the short page', async (n) => {
    const domain = `edge-${n}.example`;
    sim.addDomain({ domain });
    sim.setCdrs(domain, records(`r${n}`, n));
    const client = testClient(sim.url);
    const pages = await collect(client.listCdrs(domain, DAY));
    const keys = pageKeys(pages);
    expect(keys).toHaveLength(n);
    expect(new Set(keys).size).toBe(n);
    expect(keys).toEqual(truthKeys(sim.groundTruth(domain, DAY)));
    expect(pages.map((p) => p.offset)).toEqual(Array.from({ length: Math.floor(n / 1000) + 1 }, (_, i) => i * 1000));
    expect(pages.every((p) => p.limit === 1000)).toBe(true);
    expect(client.stats().requests).toBe(Math.floor(n / 1000) + 1);
    const count = await client.countCdrs(domain, DAY);
    expect(count.total).toBe(n);
  });

  it('any page size up to 1000, and nothing above it', async () => {
    const domain = 'edge-small-pages.example';
    sim.addDomain({ domain });
    sim.setCdrs(domain, records('s', 23));
    const client = testClient(sim.url);
    const pages = await collect(client.listCdrs(domain, DAY, { pageSize: 7 }));
    expect(pages.map((p) => p.received)).toEqual([7, 7, 7, 2]);
    expect(pageKeys(pages)).toEqual(truthKeys(sim.groundTruth(domain, DAY)));
    await expect(client.fetchCdrPage(domain, DAY, 0, 1001)).rejects.toThrow(UsageError);
    await expect(client.fetchCdrPage(domain, DAY, -1, 10)).rejects.toThrow(UsageError);
    await expect(client.fetchCdrPage(domain, DAY, 0, 0)).rejects.toThrow(UsageError);
  });

  it('windows are half-open on the client even though the server includes datetime-end', async () => {
    const domain = 'edge-boundaries.example';
    sim.addDomain({ domain });
    const at = (iso: string, id: string) =>
      sampleCdr({ id, 'call-start-datetime': iso, 'call-answer-datetime': null, 'call-disconnect-datetime': null });
    sim.setCdrs(domain, [
      at('2026-11-09T23:59:59Z', 'before'),
      at('2026-11-10T00:00:00Z', 'first'),
      at('2026-11-10T23:59:59Z', 'last'),
      at('2026-11-11T00:00:00Z', 'next-day'),
    ]);
    const client = testClient(sim.url);
    const [page] = await collect(client.listCdrs(domain, DAY));
    expect(page!.cdrs.map((c) => c.id)).toEqual(['first', 'last']);
    expect(page!.received).toBe(3);
    expect(page!.outOfWindow).toBe(1);
    const next = await collect(client.listCdrs(domain, { start: DAY.end, end: new Date('2026-11-12T00:00:00Z') }));
    expect(next.flatMap((p) => p.cdrs.map((c) => c.id))).toEqual(['next-day']);
  });

  it('a page keeps bad records as rejects with reason and raw text, and the body as received', async () => {
    const domain = 'edge-rejects.example';
    sim.addDomain({ domain });
    const good = records('g', 3);
    const bad = [
      { ...good[0]!, id: '   ' },
      { ...good[1]!, id: 'neg', 'call-total-duration-seconds': -5 },
      { ...good[2]!, id: 'dir', 'call-direction': 7 },
      { ...good[2]!, id: 'str', 'call-total-duration-seconds': '61', 'call-direction': '1', hostile: '<script>"; DROP TABLE cdrs;--' },
    ];
    sim.setCdrs(domain, [...good, ...bad]);
    const client = testClient(sim.url);
    const [page] = await collect(client.listCdrs(domain, DAY));
    expect(page!.received).toBe(7);
    expect(page!.cdrs.map((c) => c.id).sort()).toEqual(['g-00000', 'g-00001', 'g-00002', 'str']);
    expect(page!.cdrs.find((c) => c.id === 'str')).toMatchObject({ durationS: 61, direction: 'inbound' });
    expect(page!.records.find((r) => r.id === 'str')!.hostile).toBe('<script>"; DROP TABLE cdrs;--');
    expect(page!.rejects.map((r) => JSON.parse(r.rawText).id).sort()).toEqual(['   ', 'dir', 'neg']);
    expect(page!.rejects.find((r) => r.rawText.includes('"neg"'))!.reason).toMatch(/call-total-duration-seconds/);
    expect(JSON.parse(page!.body)).toHaveLength(7);
  });

  it('path-encodes hostile domain names', async () => {
    const domain = 'we ird/na?me#%.example';
    sim.addDomain({ domain });
    sim.setCdrs(domain, records('h', 2));
    const client = testClient(sim.url);
    expect((await client.listDomains()).map((d) => d.domain)).toContain(domain);
    expect(pageKeys(await collect(client.listCdrs(domain, DAY)))).toEqual(truthKeys(sim.groundTruth(domain, DAY)));
    expect((await client.countCdrs(domain, DAY)).total).toBe(2);
  });

  it('counts: total, seconds and minutes = ceil(seconds / 60)', async () => {
    const domain = 'edge-count.example';
    sim.addDomain({ domain });
    sim.setCdrs(domain, records('c', 10)); // durations 0..9 s
    const count = await testClient(sim.url).countCdrs(domain, DAY);
    expect(count).toEqual({ total: 10, seconds: 45, minutes: 1 });
  });
});

describe('every datetime form the server writes', () => {
  const forms: Array<[string, DatetimeFormat]> = [
    ['bare with a space', { kind: 'bare', separator: ' ' }],
    ['bare with a T', { kind: 'bare', separator: 'T' }],
    ['UTC with Z', { kind: 'utc-z' }],
    ['a fixed offset', { kind: 'offset', offsetMinutes: -480 }],
    ['a half-hour offset', { kind: 'offset', offsetMinutes: 330 }],
    ['offset plus [zone]', { kind: 'zone', zone: 'US/Pacific' }],
    ['offset plus [zone] east of UTC', { kind: 'zone', zone: 'Asia/Kolkata' }],
  ];
  it.each(forms)('%s', async (_label, format) => {
    // A window that crosses the US DST change (1 Nov 2026) so zone offsets differ inside it.
    const window: TimeWindow = { start: new Date('2026-10-30T00:00:00Z'), end: new Date('2026-11-04T00:00:00Z') };
    const sim = await startSimulator({ seed: 32, domains: 2, clock: new FixedClock(SIM_NOW), forceDatetimeFormat: format });
    try {
      const client = testClient(sim.url);
      for (const d of sim.domains()) {
        const pages = await collect(client.listCdrs(String(d.domain), window, { pageSize: 50 }));
        const truth = sim.groundTruth(String(d.domain), window);
        expect(pageKeys(pages)).toEqual(truthKeys(truth));
        const answered = pages.flatMap((p) => p.cdrs).filter((c) => c.answerTime !== null);
        expect(answered.length).toBeGreaterThan(0);
        const byId = new Map(truth.map((r) => [String(r.id), r]));
        for (const c of answered)
          expect(c.answerTime!.toISOString()).toBe(new Date(String(byId.get(c.id)!['call-answer-datetime'])).toISOString());
        if (format.kind !== 'utc-z') expect(pages[0]!.body).not.toMatch(/"call-start-datetime":"[^"]*Z"/);
      }
    } finally {
      await sim.close();
    }
  });
});

describe('domain paging', () => {
  it.each([1000, 1001])('%i domains: all of them, in pages of 1000', async (n) => {
    const sim = await startSimulator({ seed: 33, domains: n, clock: new FixedClock(SIM_NOW) });
    try {
      const client = testClient(sim.url);
      const domains = await client.listDomains();
      expect(domains.map((d) => d.domain)).toEqual(sim.domains().map((d) => d.domain));
      expect(new Set(domains.map((d) => d.domain)).size).toBe(n);
      expect(await client.countDomains()).toBe(n);
      expect(client.stats().requests).toBe(3); // two pages + the count
    } finally {
      await sim.close();
    }
  });
});
