import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../pipeline/simulator/index.ts';
import type { FixedClock } from '../../pipeline/util/clock.ts';
import { get, makeCdrs, NOW, q, start } from './helpers.ts';

let sim: RunningSimulator;
let clock: FixedClock;
let busy: string;

beforeAll(async () => {
  ({ sim, clock } = await start({ domains: 6 }));
  busy = [...sim.profiles()].sort((a, b) => b.callsPerBusinessDay - a.callsPerBusinessDay)[0]!.domain;
});
afterAll(async () => {
  await sim.close();
});

const nov = { 'datetime-start': '2026-11-01T00:00:00Z', 'datetime-end': '2026-11-20T00:00:00Z' };

describe('shapes', () => {
  it('lists and counts domains with the v2 keys', async () => {
    const list = await get(sim, '/domains');
    expect(list.status).toBe(200);
    const domains = list.body as Record<string, unknown>[];
    expect(domains).toHaveLength(6);
    for (const d of domains) {
      expect(d).toMatchObject({
        domain: expect.stringMatching(/^[a-z0-9.-]+$/),
        reseller: expect.any(String),
        description: expect.any(String),
        'time-zone': expect.any(String),
      });
    }
    expect(domains).toEqual(sim.domains());
    expect((await get(sim, '/domains/count')).body).toEqual({ total: 6 });
    expect(((await get(sim, '/domains' + q({ start: 2, limit: 3 }))).body as unknown[]).length).toBe(3);
  });
  it('lists users', async () => {
    const users = (await get(sim, `/domains/${busy}/users`)).body as Record<string, unknown>[];
    expect(users.length).toBeGreaterThan(2);
    expect(users[0]).toMatchObject({ user: expect.stringMatching(/^\d+$/), domain: busy });
    const numbers = (await get(sim, `/domains/${busy}/phonenumbers`)).body as Record<string, unknown>[];
    expect(numbers[0]).toMatchObject({ phonenumber: expect.stringMatching(/^1\d{10}$/), domain: busy });
  });
  it('answers errors as {code, message}', async () => {
    expect(await get(sim, '/domains/nosuch.example/cdrs' + q(nov))).toMatchObject({
      status: 403,
      body: { code: 403, message: 'Domain not found or access denied' },
    });
    expect(await get(sim, '/nothing')).toMatchObject({ status: 404, body: { code: 404 } });
    expect(await get(sim, `/domains/${busy}/cdrs` + q({ ...nov, limit: 1001 }))).toMatchObject({
      status: 400,
      body: { code: 400, message: expect.stringContaining('1000') },
    });
    expect(await get(sim, `/domains/${busy}/cdrs` + q({ ...nov, start: -1 }))).toMatchObject({ status: 400 });
    expect(await get(sim, `/domains/${busy}/cdrs` + q({ 'datetime-start': 'yesterday', 'datetime-end': '2026-11-02' }))).toMatchObject({
      status: 400,
    });
    expect(await get(sim, `/domains/${busy}/cdrs` + q({ ...nov, type: 'Sideways' }))).toMatchObject({ status: 400 });
  });
  it('serves CDR pages of real-shaped records, default limit 100', async () => {
    const page = await get(sim, `/domains/${busy}/cdrs` + q(nov));
    expect(page.status).toBe(200);
    const rows = page.body as Record<string, unknown>[];
    expect(rows).toHaveLength(100);
    expect(rows[0]).toMatchObject({
      id: expect.any(String),
      domain: busy,
      'call-direction': expect.any(Number),
      'call-start-datetime': expect.stringMatching(/Z$/),
    });
  });
});

describe('paging', () => {
  beforeAll(() => {
    for (const n of [0, 999, 1000, 1001, 2000]) sim.addDomain({ domain: `paging${n}.example` });
    for (const n of [0, 999, 1000, 1001, 2000])
      sim.addCdrs(`paging${n}.example`, makeCdrs(n, new Date('2026-11-10T00:00:00Z'), `paging${n}.example`));
  });
  for (const n of [0, 999, 1000, 1001, 2000]) {
    it(`pages through ${n} rows with limit 1000 until a short page`, async () => {
      const ids: string[] = [];
      let pages = 0;
      for (let offset = 0; ; offset += 1000) {
        const page = (await get(sim, `/domains/paging${n}.example/cdrs` + q({ ...nov, start: offset, limit: 1000 }))).body as Record<
          string,
          unknown
        >[];
        pages++;
        ids.push(...page.map((r) => String(r.id)));
        if (page.length < 1000) break;
      }
      expect(ids).toHaveLength(n);
      expect(new Set(ids).size).toBe(n);
      expect(ids).toEqual([...ids].sort());
      expect(pages).toBe(Math.floor(n / 1000) + 1);
      expect((await get(sim, `/domains/paging${n}.example/cdrs/count` + q(nov))).body).toEqual({
        total: n,
        seconds: 30 * n,
        minutes: Math.ceil((30 * n) / 60),
      });
    });
  }
  it('keeps offsets stable across requests over a generated domain', async () => {
    const all = (await get(sim, `/domains/${busy}/cdrs` + q({ ...nov, limit: 1000 }))).body as Record<string, unknown>[];
    const pieces: Record<string, unknown>[] = [];
    for (let offset = 0; offset < all.length; offset += 37)
      pieces.push(
        ...((await get(sim, `/domains/${busy}/cdrs` + q({ ...nov, start: offset, limit: 37 }))).body as Record<string, unknown>[]),
      );
    expect(pieces.slice(0, all.length)).toEqual(all);
  });
});

describe('counts, windows and ground truth', () => {
  it('counts what the list returns, with minutes = ceil(sum of seconds / 60)', async () => {
    for (const type of [undefined, 'Inbound', 'Outbound', 'Missed', 'On-net', 'Off-net', '2']) {
      const params = { ...nov, ...(type ? { type } : {}) };
      const rows: Record<string, unknown>[] = [];
      for (let offset = 0; ; offset += 1000) {
        const page = (await get(sim, `/domains/${busy}/cdrs` + q({ ...params, start: offset, limit: 1000 }))).body as Record<
          string,
          unknown
        >[];
        rows.push(...page);
        if (page.length < 1000) break;
      }
      const count = (await get(sim, `/domains/${busy}/cdrs/count` + q(params))).body as { total: number; seconds: number; minutes: number };
      const seconds = rows.reduce((s, r) => s + Number(r['call-total-duration-seconds']), 0);
      expect(count).toEqual({ total: rows.length, seconds, minutes: Math.ceil(seconds / 60) });
      if (type === 'Missed' || type === '2') expect(rows.every((r) => r['call-direction'] === 2)).toBe(true);
    }
  });

  it('matches groundTruth for a half-open window, while the server end is inclusive', async () => {
    const d = 'edges.example';
    sim.addDomain({ domain: d, timeZone: 'US/Pacific' });
    sim.addCdrs(d, [
      { id: 'a', 'call-start-datetime': '2026-10-31T23:59:59-07:00', 'call-total-duration-seconds': 5, 'call-direction': 1 },
      { id: 'b', 'call-start-datetime': '2026-11-01 07:00:00', 'call-total-duration-seconds': 7, 'call-direction': 1 },
      { id: 'c', 'call-start-datetime': '2026-11-01T07:00:00Z', 'call-total-duration-seconds': 9, 'call-direction': 0 },
      { id: 'd', 'call-start-datetime': '2026-11-30T23:59:59-08:00', 'call-total-duration-seconds': 60, 'call-direction': 3 },
      { id: 'e', 'call-start-datetime': '2026-12-01T00:00:00-08:00[US/Pacific]', 'call-total-duration-seconds': 61, 'call-direction': 0 },
    ]);
    const window = { start: new Date('2026-11-01T07:00:00Z'), end: new Date('2026-12-01T08:00:00Z') };
    expect(sim.groundTruth(d, window).map((r) => r.id)).toEqual(['b', 'c', 'd']);
    const served = (
      await get(sim, `/domains/${d}/cdrs` + q({ 'datetime-start': '2026-11-01T07:00:00Z', 'datetime-end': '2026-12-01T08:00:00Z' }))
    ).body as Record<string, unknown>[];
    expect(served.map((r) => r.id)).toEqual(['b', 'c', 'd', 'e']);
    expect(sim.monthTotals(d, '2026-11', { timeZone: 'US/Pacific' })).toMatchObject({
      total: 3,
      seconds: 76,
      minutes: 2,
      byDirection: { inbound: 1, outbound: 1, internal: 1, missed: 0 },
    });
    // In UTC, 'a' (06:59:59Z on 1 Nov) is November and 'd' (07:59:59Z on 1 Dec) is not.
    expect(sim.monthTotals(d, '2026-11')).toMatchObject({ total: 3, seconds: 21 });
  });

  it('ground truth equals what a client gets paging the same window', async () => {
    const window = { start: new Date('2026-11-02T00:00:00Z'), end: new Date('2026-11-09T00:00:00Z') };
    const rows: Record<string, unknown>[] = [];
    for (let offset = 0; ; offset += 500) {
      const page = (
        await get(
          sim,
          `/domains/${busy}/cdrs` +
            q({ 'datetime-start': '2026-11-02T00:00:00Z', 'datetime-end': '2026-11-09T00:00:00Z', start: offset, limit: 500 }),
        )
      ).body as Record<string, unknown>[];
      rows.push(...page);
      if (page.length < 500) break;
    }
    const halfOpen = rows.filter((r) => Date.parse(String(r['call-start-datetime'])) < window.end.getTime());
    expect(halfOpen).toEqual(sim.groundTruth(busy, window));
    const seconds = halfOpen.reduce((n, r) => n + Number(r['call-total-duration-seconds']), 0);
    expect(sim.groundTruthCount(busy, window)).toEqual({ total: halfOpen.length, seconds, minutes: Math.ceil(seconds / 60) });
    expect(halfOpen.length).toBeGreaterThan(20);
  });

  it('shows a call only once it has ended by the clock', async () => {
    const today = { 'datetime-start': '2026-11-27T00:00:00Z', 'datetime-end': '2026-11-28T00:00:00Z' };
    const before = (await get(sim, `/domains/${busy}/cdrs/count` + q(today))).body as { total: number };
    clock.set(new Date('2026-11-27T20:00:00Z'));
    const after = (await get(sim, `/domains/${busy}/cdrs/count` + q(today))).body as { total: number };
    clock.set(NOW);
    expect(after.total).toBeGreaterThan(before.total);
    const rows = sim.groundTruth(busy, { start: new Date('2026-11-27T00:00:00Z'), end: new Date('2026-11-28T00:00:00Z') });
    for (const r of rows) expect(Date.parse(String(r['call-disconnect-datetime']))).toBeLessThanOrEqual(NOW.getTime());
  });
});

describe('missing datetime bounds', () => {
  it('lenient: a lone bound is ignored and the whole history comes back', async () => {
    const lone = (await get(sim, `/domains/${busy}/cdrs/count` + q({ 'datetime-start': '2026-11-26T00:00:00Z' }))).body as {
      total: number;
    };
    const none = (await get(sim, `/domains/${busy}/cdrs/count`)).body as { total: number };
    const all = (
      await get(
        sim,
        `/domains/${busy}/cdrs/count` + q({ 'datetime-start': '2000-01-01T00:00:00Z', 'datetime-end': '2100-01-01T00:00:00Z' }),
      )
    ).body as { total: number };
    expect(lone.total).toBe(all.total);
    expect(none.total).toBe(all.total);
    const first = (await get(sim, `/domains/${busy}/cdrs` + q({ 'datetime-start': '2026-11-26T00:00:00Z', limit: 1 }))).body as Record<
      string,
      unknown
    >[];
    expect(String(first[0]!['call-start-datetime'])).toMatch(/^2026-09-01/);
  });
  it('strict: 400', async () => {
    const { sim: strict } = await start({ strict: true, domains: 1 });
    try {
      const d = strict.profiles()[0]!.domain;
      expect(await get(strict, `/domains/${d}/cdrs` + q({ 'datetime-start': '2026-11-26T00:00:00Z' }))).toMatchObject({
        status: 400,
        body: { code: 400 },
      });
      expect(await get(strict, `/domains/${d}/cdrs/count`)).toMatchObject({ status: 400 });
      expect((await get(strict, `/domains/${d}/cdrs` + q(nov))).status).toBe(200);
    } finally {
      await strict.close();
    }
  });
});

describe('datetime format echo', () => {
  const forms: Array<[string, string, RegExp]> = [
    ['2026-11-02 00:00:00', '2026-11-03 00:00:00', /^2026-11-0\d \d\d:\d\d:\d\d$/],
    ['2026-11-02T00:00:00Z', '2026-11-03T00:00:00Z', /^2026-11-0\dT\d\d:\d\d:\d\dZ$/],
    ['2026-11-01T16:00:00-08:00', '2026-11-02T16:00:00-08:00', /^2026-11-0\dT\d\d:\d\d:\d\d-08:00$/],
    ['2026-11-01T16:00:00-08:00[US/Pacific]', '2026-11-02T16:00:00-08:00[US/Pacific]', /^2026-11-0\dT\d\d:\d\d:\d\d-08:00\[US\/Pacific\]$/],
    ['2026-11-02T05:30:00+05:30', '2026-11-03T05:30:00+05:30', /^2026-11-0\dT\d\d:\d\d:\d\d\+05:30$/],
  ];
  for (const [s, e, re] of forms) {
    it(`answers ${s} in the same form`, async () => {
      const rows = (await get(sim, `/domains/${busy}/cdrs` + q({ 'datetime-start': s, 'datetime-end': e, limit: 20 }))).body as Record<
        string,
        unknown
      >[];
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) {
        expect(String(r['call-start-datetime'])).toMatch(re);
        if (r['call-answer-datetime'] !== null) expect(String(r['call-answer-datetime'])).toMatch(re);
      }
    });
  }
  it('the same instants whatever the form', async () => {
    const z = (
      await get(sim, `/domains/${busy}/cdrs` + q({ 'datetime-start': '2026-11-02T00:00:00Z', 'datetime-end': '2026-11-03T00:00:00Z' }))
    ).body as Record<string, unknown>[];
    const p = (
      await get(
        sim,
        `/domains/${busy}/cdrs` + q({ 'datetime-start': '2026-11-01T16:00:00-08:00', 'datetime-end': '2026-11-02T16:00:00-08:00' }),
      )
    ).body as Record<string, unknown>[];
    expect(p.map((r) => Date.parse(String(r['call-start-datetime'])))).toEqual(z.map((r) => Date.parse(String(r['call-start-datetime']))));
  });
  it('can be forced at runtime', async () => {
    sim.setDatetimeFormat({ kind: 'zone', zone: 'America/Chicago' });
    try {
      const rows = (await get(sim, `/domains/${busy}/cdrs` + q({ ...nov, limit: 3 }))).body as Record<string, unknown>[];
      expect(String(rows[0]!['call-start-datetime'])).toMatch(/-0[56]:00\[America\/Chicago\]$/);
    } finally {
      sim.setDatetimeFormat(undefined);
    }
  });
  it('can be forced for tests', async () => {
    const { sim: forced } = await start({ domains: 1, forceDatetimeFormat: { kind: 'bare', separator: ' ' } });
    try {
      const d = forced.profiles()[0]!.domain;
      forced.addCdrs(d, makeCdrs(3, new Date('2026-11-02T10:00:00Z'), d));
      const rows = (
        await get(forced, `/domains/${d}/cdrs` + q({ 'datetime-start': '2026-11-02T00:00:00Z', 'datetime-end': '2026-11-03T00:00:00Z' }))
      ).body as Record<string, unknown>[];
      expect(rows.some((r) => r['call-start-datetime'] === '2026-11-02 10:00:00')).toBe(true);
    } finally {
      await forced.close();
    }
  });
});

describe('determinism', () => {
  it('two simulators with the same seed serve identical bytes', async () => {
    const { sim: a } = await start({ domains: 3, seed: 77 });
    const { sim: b } = await start({ domains: 3, seed: 77 });
    const { sim: c } = await start({ domains: 3, seed: 78 });
    try {
      const da = (await get(a, '/domains')).text;
      expect((await get(b, '/domains')).text).toBe(da);
      expect((await get(c, '/domains')).text).not.toBe(da);
      const d = a.profiles()[0]!.domain;
      const page = `/domains/${d}/cdrs` + q({ ...nov, limit: 1000 });
      expect((await get(b, page)).text).toBe((await get(a, page)).text);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });
});

describe('test hooks', () => {
  it('serves hostile domain names through an encoded path segment', async () => {
    for (const name of ['../x', 'a/b', 'sp ace', 'ünï.example', 'q?x=1#y']) {
      sim.addDomain({ domain: name });
      sim.addCdrs(name, makeCdrs(2, new Date('2026-11-05T00:00:00Z'), name));
      const res = await get(sim, `/domains/${encodeURIComponent(name)}/cdrs` + q(nov));
      expect(res.status, name).toBe(200);
      expect((res.body as Record<string, unknown>[]).map((r) => r.domain)).toEqual([name, name]);
    }
    expect((await get(sim, '/domains' + q({ limit: 1000 }))).text).toContain('"a/b"');
  });
  it('updates and removes generated and injected records', async () => {
    const window = { start: new Date('2026-11-03T00:00:00Z'), end: new Date('2026-11-04T00:00:00Z') };
    const before = sim.groundTruth(busy, window);
    const victim = before[3]!;
    expect(sim.updateCdr(busy, String(victim.id), { 'call-total-duration-seconds': 4242 })).toBe(true);
    const changed = sim.groundTruth(busy, window).find((r) => r.id === victim.id)!;
    expect(changed['call-total-duration-seconds']).toBe(4242);
    expect(changed['call-orig-from-name']).toBe(victim['call-orig-from-name']);
    expect(sim.removeCdr(busy, String(before[4]!.id))).toBe(true);
    const after = sim.groundTruth(busy, window);
    expect(after.map((r) => r.id)).toEqual(before.filter((r) => r.id !== before[4]!.id).map((r) => r.id));
    expect(sim.removeCdr(busy, 'no-such-id')).toBe(false);
    const count = (
      await get(
        sim,
        `/domains/${busy}/cdrs/count` + q({ 'datetime-start': '2026-11-03T00:00:00Z', 'datetime-end': '2026-11-03T23:59:59Z' }),
      )
    ).body as { total: number; seconds: number };
    expect(count.total).toBe(after.length);
    expect(count.seconds).toBe(after.reduce((s, r) => s + Number(r['call-total-duration-seconds']), 0));
  });
  it("setCdrs replaces a domain's data; visibleAt delays injected records", async () => {
    const d = sim.profiles()[1]!.domain;
    sim.setCdrs(d, makeCdrs(3, new Date('2026-11-05T00:00:00Z'), d));
    sim.addCdrs(d, [{ id: 'later', 'call-start-datetime': '2026-11-05T01:00:00Z', 'call-total-duration-seconds': 1 }], {
      visibleAt: new Date('2026-11-28T00:00:00Z'),
    });
    expect((await get(sim, `/domains/${d}/cdrs/count` + q(nov))).body).toMatchObject({ total: 3 });
    expect(
      sim.groundTruth(d, { start: new Date('2026-11-01'), end: new Date('2026-12-01') }, { asOf: new Date('2026-11-28T00:00:00Z') }),
    ).toHaveLength(4);
  });
  it('counts requests by endpoint', () => {
    const s = sim.stats();
    expect(s.requests).toBeGreaterThan(10);
    expect(s.byEndpoint.cdrs).toBeGreaterThan(0);
    expect(s.byEndpoint['cdrs-count']).toBeGreaterThan(0);
    expect(s.byStatus['200']).toBeGreaterThan(0);
  });
});
