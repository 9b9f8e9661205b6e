import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Db, sqlString } from '../../pipeline/db/duckdb.ts';
import { cdrsDir, cdrsGlob, statePath } from '../../pipeline/lake/layout.ts';
import { NetSapiensClient } from '../../pipeline/source/netsapiens-client.ts';
import { runIngest } from '../../pipeline/extract/run-ingest.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { lakeRows, NOW, OCT, startHarness, truthRows, type Harness } from './harness.ts';
import { testConfig } from '../support/test-config.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Lake and truth as comparable (domain, id, raw) lists. */
async function expectLakeEqualsTruth(harness: Harness, window: { start: Date; end: Date }, domains?: string[]) {
  const lake = await lakeRows(harness.dir);
  const truth = truthRows(harness.sim, window, domains);
  expect(lake.length).toBe(truth.length);
  expect(lake.map((r) => ({ domain: r.domain, id: r.id, raw: r.raw }))).toEqual(truth);
}

async function lakeFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else out.push(join(d, e.name));
    }
  };
  if (existsSync(cdrsDir(dir))) await walk(cdrsDir(dir));
  return out;
}

describe('ingest against the simulator', () => {
  for (const concurrency of [1, 8]) {
    it(`lake equals ground truth for a multi-domain month with faults on (concurrency ${concurrency})`, async () => {
      h = await startHarness(
        {
          now: NOW,
          domains: 4,
          faults: {
            seed: concurrency,
            errorRate: 0.08,
            dropRate: 0.04,
            truncateRate: 0.04,
            // One request at a time comes in waves of pages: a lower limit still gets hit.
            rateLimit: { requestsPerSecond: concurrency > 1 ? 15 : 5, retryAfterSeconds: 1 },
            tokenExpiry: { afterRequests: 15 },
          },
        },
        { pageSize: 200, rowBudget: 1000 },
      );
      const oauth = NetSapiensClient.create({
        baseUrl: h.sim.url,
        auth: { kind: 'oauth', clientId: 'c', clientSecret: 's', username: 'u', password: 'p' },
        retry: { baseDelayMs: 1, maxDelayMs: 20, retryAfterCapMs: 250, maxAttempts: 20 },
      });
      // Small flushRows at concurrency 8: partitions are merged in several steps while fetching goes on.
      const s = await h.ingest({
        source: oauth,
        from: OCT.start,
        to: OCT.end,
        concurrency,
        ...(concurrency > 1 ? { flushRows: 300 } : {}),
      });
      await expectLakeEqualsTruth(h, OCT);
      expect(s.failures).toEqual([]);
      expect(s.anomalies).toEqual([]);
      expect(s.retries).toBeGreaterThan(0);
      expect(s.windowsSplit).toBeGreaterThan(0);
      const injected = h.sim.stats().faultsInjected;
      expect(injected.error + injected.drop + injected.truncate).toBeGreaterThan(0);
      expect(injected['token-expiry']).toBe(1);
      expect(injected['rate-limit']).toBeGreaterThan(0);
      expect(s.retriesByReason['429']).toBeGreaterThan(0);
    });
  }

  it('re-running the same range or a sub-range changes nothing; minimal requests without faults', async () => {
    h = await startHarness({ now: NOW, domains: 3 }, { pageSize: 1000 });
    const first = await h.ingest({ from: OCT.start, to: OCT.end });
    await expectLakeEqualsTruth(h, OCT);
    // 1 domain list + per domain 1 count + ceil((n + 1) / 1000) pages
    const perDomain = h.sim.domains().map((d) => h!.sim.groundTruth(String(d.domain), OCT).length);
    expect(first.requests).toBe(1 + perDomain.reduce((n, rows) => n + 1 + Math.floor(rows / 1000) + 1, 0));
    const filesBefore = await lakeFiles(h.dir);
    const again = await h.ingest({ from: OCT.start, to: OCT.end });
    expect(again).toMatchObject({ rowsWritten: 0, partitionsWritten: 0, partitionsUnchanged: 3, rowsFetched: first.rowsFetched });
    const sub = await h.ingest({ from: new Date('2026-10-10T00:00:00Z'), to: new Date('2026-10-20T00:00:00Z'), concurrency: 2 });
    expect(sub.rowsWritten).toBe(0);
    await expectLakeEqualsTruth(h, OCT);
    expect(await lakeFiles(h.dir)).toEqual(filesBefore);
  });

  it('incremental runs move watermarks, pick up late CDRs through the lookback and replace updated ones', async () => {
    h = await startHarness({ now: NOW, domains: 2 }, { lookbackHours: 48, settleMinutes: 15, initialBackfillDays: 10 });
    const domains = h.sim.domains().map((d) => String(d.domain));
    const first = await h.ingest();
    expect(first.mode).toBe('incremental');
    const settled = new Date(NOW.getTime() - 15 * 60_000);
    for (const d of domains) expect(first.watermarks[d]).toBe(settled.toISOString());
    const start = new Date(NOW.getTime() - 10 * 86_400_000);
    await expectLakeEqualsTruth(h, { start, end: settled });

    // A CDR from yesterday shows up late; an old one is corrected.
    const d0 = domains[0]!;
    const template = h.sim.groundTruth(d0, { start, end: settled })[0]!;
    h.sim.addCdrs(d0, [{ ...template, id: 'late-1', 'call-start-datetime': '2026-11-26T09:00:00Z' }]);
    const victim = h.sim.groundTruth(d0, { start: new Date('2026-11-26T00:00:00Z'), end: settled })[0]!;
    expect(h.sim.updateCdr(d0, String(victim.id), { 'call-total-duration-seconds': 4242 })).toBe(true);
    h.clock.advance(3_600_000);
    const second = await h.ingest();
    const settled2 = new Date(NOW.getTime() + 3_600_000 - 15 * 60_000);
    expect(second.watermarks[d0]).toBe(settled2.toISOString());
    await expectLakeEqualsTruth(h, { start, end: settled2 });
    const lake = await lakeRows(h.dir);
    expect(lake.find((r) => r.id === 'late-1')).toBeDefined();
    expect(lake.find((r) => r.id === String(victim.id))!.raw['call-total-duration-seconds']).toBe(4242);

    // A backfill of an old range leaves the watermarks alone.
    const back = await h.ingest({ from: new Date('2026-10-01T00:00:00Z'), to: new Date('2026-10-05T00:00:00Z') });
    expect(back.watermarks[d0]).toBe(settled2.toISOString());
    const db = await Db.open(statePath(h.dir), { readOnly: true });
    try {
      const wm = await db.all(`SELECT domain, watermark::VARCHAR AS wm FROM watermarks ORDER BY domain`);
      expect(wm.map((r) => r.wm)).toEqual(domains.map(() => '2026-11-27 12:45:00+00'));
    } finally {
      db.close();
    }
  });

  it('a run killed mid-window, then re-run, ends with exact ground truth', async () => {
    h = await startHarness({ now: NOW, domains: 3, faults: { latencyMs: 15 } });
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(import.meta.dirname, 'fixtures', 'ingest-child.ts'),
        h.dir,
        h.sim.url,
        OCT.start.toISOString(),
        OCT.end.toISOString(),
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Kill once some partition range is in the lake and more requests are flowing.
    const deadline = Date.now() + 30_000;
    while ((await lakeFiles(h.dir)).filter((f) => f.endsWith('.parquet')).length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const requestsAtKill = h.sim.stats().requests;
    child.kill('SIGKILL');
    const code = await exited;
    expect(code, stderr).toBeNull();
    expect(requestsAtKill).toBeGreaterThan(5);
    // Whatever is in the lake now is readable and never doubled.
    const mid = await lakeRows(h.dir);
    expect(new Set(mid.map((r) => `${r.domain}/${r.id}`)).size).toBe(mid.length);
    h.sim.setFaults({});
    const s = await h.ingest({ from: OCT.start, to: OCT.end });
    expect(s.failures).toEqual([]);
    await expectLakeEqualsTruth(h, OCT);
    expect((await lakeFiles(h.dir)).every((f) => f.endsWith('/data.parquet'))).toBe(true);
    expect(existsSync(join(h.dir, 'tmp')) ? await readdir(join(h.dir, 'tmp')) : []).toEqual([]);
  });

  it('hostile domain names neither escape the lake nor break it', async () => {
    h = await startHarness({ now: NOW, domains: 1 });
    const names = ['../x', 'a/b', 'with spaces', 'ünïcødé.example', '%2e%2e', "quote'd"];
    const template = h.sim.groundTruth(String(h.sim.domains()[0]!.domain), OCT)[0]!;
    for (const [i, name] of names.entries()) {
      h.sim.addDomain({ domain: name });
      h.sim.addCdrs(name, [{ ...template, id: `h-${i}`, domain: name, 'call-start-datetime': '2026-10-15T10:00:00Z' }]);
    }
    h.sim.addDomain({ domain: '..' });
    const s = await h.ingest({ from: OCT.start, to: OCT.end });
    expect(s.failures).toEqual([]);
    // The client leaves ".." out of the domain list; asked for by name, it is skipped, not fatal.
    const named = await h.ingest({ from: OCT.start, to: OCT.end, domains: ['..', 'a/b'] });
    expect(named.skippedDomains.map((d) => d.domain)).toEqual(['..']);
    expect(named.failures).toEqual([]);
    await expectLakeEqualsTruth(
      h,
      OCT,
      h.sim
        .domains()
        .map((d) => String(d.domain))
        .filter((d) => d !== '..'),
    );
    const lakeDirs = await readdir(join(h.dir, 'lake'));
    expect(lakeDirs.sort()).toEqual(['cdrs', 'domains']);
    expect((await readdir(h.dir)).sort()).toEqual(
      ['lake', 'state.duckdb', 'state.duckdb.wal', 'tmp'].filter((n) => existsSync(join(h!.dir, n))).sort(),
    );
    const months = await readdir(cdrsDir(h.dir));
    expect(months).toEqual(['month=2026-10']);
    const db = await Db.open(':memory:');
    try {
      const got = await db.all(
        `SELECT DISTINCT domain FROM read_parquet(${sqlString(cdrsGlob(h.dir))}, hive_partitioning = true) ORDER BY domain`,
      );
      expect(got.map((r) => r.domain)).toEqual([...names, String(h.sim.domains()[0]!.domain)].sort());
      const byHive = await db.all(
        `SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(cdrsGlob(h.dir))}, hive_partitioning = true) WHERE domain = '../x'`,
      );
      expect(byHive).toEqual([{ n: 1 }]);
    } finally {
      db.close();
    }
  });
});

describe('datetimes, DST days and month boundaries', () => {
  const formats = [
    { kind: 'zone', zone: 'America/New_York' },
    { kind: 'zone', zone: 'Australia/Lord_Howe' },
    { kind: 'offset', offsetMinutes: 330 },
    { kind: 'bare', separator: ' ' },
    { kind: 'utc-z' },
  ] as const;
  // Instants around the US fall-back (2026-11-01 06:00Z), the EU fall-back (2026-10-25 01:00Z),
  // Lord Howe's half-hour shift (2026-10-03 15:00Z) and the Oct/Nov month edge.
  const instants = [
    '2026-10-03T14:45:00Z',
    '2026-10-03T15:15:00Z',
    '2026-10-25T00:30:00Z',
    '2026-10-25T01:30:00Z',
    '2026-10-31T23:59:59Z',
    '2026-11-01T00:00:00Z',
    '2026-11-01T05:30:00Z',
    '2026-11-01T06:30:00Z',
    '2026-09-30T23:59:59Z',
  ];
  for (const format of formats) {
    it(`stores the exact instant and UTC month partition when the API writes ${JSON.stringify(format)}`, async () => {
      h = await startHarness({ now: NOW, domains: 0, forceDatetimeFormat: format });
      h.sim.addDomain({ domain: 'tz.example', timeZone: format.kind === 'zone' ? format.zone : 'UTC' });
      h.sim.addCdrs(
        'tz.example',
        instants.map((t, i) => ({
          id: `t${i}`,
          domain: 'tz.example',
          'call-start-datetime': t,
          'call-answer-datetime': t,
          'call-disconnect-datetime': t,
          'call-total-duration-seconds': 10,
          'call-talking-duration-seconds': 5,
          'call-direction': i % 4,
        })),
      );
      const s = await h.ingest({ from: new Date('2026-09-30T00:00:00Z'), to: new Date('2026-11-02T00:00:00Z') });
      expect(s.anomalies).toEqual([]);
      const db = await Db.open(':memory:');
      try {
        const rows = await db.all<{ id: string; t: string; month: string; direction: string }>(
          `SELECT id, strftime(start_time AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS t, month, direction
           FROM read_parquet(${sqlString(cdrsGlob(h.dir))}, hive_partitioning = true) ORDER BY start_time`,
        );
        expect(rows.map((r) => r.t)).toEqual([...instants].sort());
        for (const r of rows) expect(r.month).toBe(r.t.slice(0, 7));
        expect(rows.find((r) => r.id === 't3')!.direction).toBe('internal');
      } finally {
        db.close();
      }
    });
  }
});

describe('runIngest usage errors', () => {
  it('refuses --to without --from and an inverted range', async () => {
    const base = { dataDir: '/nonexistent', config: testConfig(), clock: { now: () => NOW }, logger: silentLogger() };
    const source = NetSapiensClient.create({ baseUrl: 'http://127.0.0.1:9/ns-api/v2', auth: { kind: 'api-key', apiKey: 'k' } });
    await expect(runIngest({ ...base, source, to: NOW })).rejects.toThrow(/--to needs --from/);
    await expect(runIngest({ ...base, source, from: NOW, to: NOW })).rejects.toThrow(/must be before/);
  });
});
