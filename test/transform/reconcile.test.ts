import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startSimulator, type RunningSimulator } from '../../pipeline/simulator/index.ts';
import { NetSapiensClient } from '../../pipeline/source/netsapiens-client.ts';
import { partitionDir } from '../../pipeline/lake/layout.ts';
import { withState } from '../../pipeline/state/state-db.ts';
import { runTransform } from '../../pipeline/transform/run-transform.ts';
import { formatReconcileTable, halfOpenCount, judge, runReconcile } from '../../pipeline/transform/reconcile.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { deckConfig, writeDomains, writeLake, type FixtureCdr } from './lake-fixture.ts';
import { tempDir } from '../support/temp-dir.ts';

const clock = new FixedClock(new Date('2026-11-20T12:00:00Z'));

interface Call {
  id: string;
  start: string;
  seconds: number;
}

function apiRecord(domain: string, c: Call): Record<string, unknown> {
  const end = new Date(new Date(c.start).getTime() + c.seconds * 1000).toISOString();
  return {
    id: c.id,
    domain,
    'call-direction': 0,
    'call-start-datetime': c.start,
    'call-answer-datetime': c.start,
    'call-disconnect-datetime': end,
    'call-total-duration-seconds': c.seconds,
    'call-talking-duration-seconds': c.seconds,
    'call-orig-user': '101',
    'call-orig-caller-id': '2125550100',
    'call-orig-to-user': '2125550199',
    'call-disconnect-reason-text': 'Orig: Bye',
  };
}

const lakeRow = (domain: string, c: Call): FixtureCdr => ({
  domain,
  id: c.id,
  start: c.start,
  direction: 'outbound',
  talk_s: c.seconds,
  duration_s: c.seconds,
  answer: c.start,
  orig_user: '101',
  caller_number: '2125550100',
  dialed_number: '2125550199',
});

// US/Pacific October 2026 is [2026-10-01T07:00Z, 2026-11-01T07:00Z).
const LA: Call[] = [
  { id: 'la-sep', start: '2026-10-01T06:59:59Z', seconds: 11 }, // Sep 30 23:59:59 local: not October
  { id: 'la-first', start: '2026-10-01T07:00:00Z', seconds: 20 },
  { id: 'la-mid', start: '2026-10-15T18:00:00Z', seconds: 300 },
  { id: 'la-last', start: '2026-11-01T06:59:59Z', seconds: 40 },
  { id: 'la-nov', start: '2026-11-01T07:00:00Z', seconds: 50 }, // exactly the window end: an inclusive server counts it
];
const NY: Call[] = [
  { id: 'ny-1', start: '2026-10-02T14:00:00Z', seconds: 61 },
  { id: 'ny-2', start: '2026-10-20T14:00:00Z', seconds: 62 },
  { id: 'ny-3', start: '2026-10-21T14:00:00Z', seconds: 63 },
];

describe('reconciliation against the simulator', () => {
  let sim: RunningSimulator;
  let source: NetSapiensClient;

  beforeAll(async () => {
    sim = await startSimulator({ domains: 0, clock, dataFrom: new Date('2026-01-01T00:00:00Z') });
    sim.addDomain({ domain: 'la.example', timeZone: 'US/Pacific' });
    sim.addDomain({ domain: 'ny.example', timeZone: 'America/New_York' });
    sim.setCdrs(
      'la.example',
      LA.map((c) => apiRecord('la.example', c)),
    );
    sim.setCdrs(
      'ny.example',
      NY.map((c) => apiRecord('ny.example', c)),
    );
    source = NetSapiensClient.create({ baseUrl: sim.url, auth: { kind: 'api-key', apiKey: 'nsr_test' }, clock });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('reconciles every domain, then exits off naming the domain whose parquet file is gone', async () => {
    const dataDir = await tempDir();
    const config = await deckConfig(dataDir);
    await writeDomains(dataDir, [
      { domain: 'la.example', time_zone: 'US/Pacific' },
      { domain: 'ny.example', time_zone: 'America/New_York' },
    ]);
    await writeLake(
      dataDir,
      LA.map((c) => lakeRow('la.example', c)),
    );
    await writeLake(
      dataDir,
      NY.slice(0, 2).map((c) => lakeRow('ny.example', c)),
      'a.parquet',
    );
    await writeLake(
      dataDir,
      NY.slice(2).map((c) => lakeRow('ny.example', c)),
      'b.parquet',
    );
    await runTransform({ dataDir, config, logger: silentLogger(), clock });

    const ok = await runReconcile({ dataDir, config, source, month: '2026-10', logger: silentLogger(), clock });
    expect(ok.off).toEqual([]);
    expect(ok.ok).toBe(true);
    const la = ok.rows.find((r) => r.domain === 'la.example')!;
    expect(la).toMatchObject({
      timeZone: 'US/Pacific',
      windowStart: '2026-10-01T07:00:00.000Z',
      windowEnd: '2026-11-01T07:00:00.000Z',
      apiTotal: 3,
      lakeTotal: 3,
      apiSeconds: 360,
      lakeSeconds: 360,
      duplicateIds: 0,
      status: 'ok',
    });
    expect(la.billedCharge).not.toBeNull();
    expect(la.byClass.map((c) => c.call_class)).toEqual(['domestic']);
    const ny = ok.rows.find((r) => r.domain === 'ny.example')!;
    expect(ny).toMatchObject({ windowStart: '2026-10-01T04:00:00.000Z', apiTotal: 3, lakeTotal: 3, apiSeconds: 186, status: 'ok' });
    expect(formatReconcileTable(ok)).toMatch(/all 2 domain\(s\) reconcile/);

    await rm(join(partitionDir(dataDir, '2026-10', 'ny.example'), 'b.parquet'));
    const off = await runReconcile({ dataDir, config, source, month: '2026-10', logger: silentLogger(), clock });
    expect(off.ok).toBe(false);
    expect(off.off).toEqual([
      { domain: 'ny.example', detail: 'lake has 2 CDRs, API 3 (1 missing from the lake); lake seconds 123 vs API 186 (+63)' },
    ]);
    expect(formatReconcileTable(off)).toMatch(/do NOT reconcile: ny\.example/);

    expect(existsSync(off.csvPath)).toBe(true);
    const csv = await readFile(off.csvPath, 'utf8');
    expect(csv.split('\n')[0]).toMatch(/^month,domain,status,/);
    expect(csv).toMatch(/2026-10,ny\.example,off,America\/New_York/);
    const stateRows = await withState(dataDir, (db) =>
      db.all(
        `SELECT domain, status, api_total::INTEGER AS api, lake_total::INTEGER AS lake FROM reconciliations WHERE month = '2026-10' ORDER BY domain`,
      ),
    );
    expect(stateRows).toEqual([
      { domain: 'la.example', status: 'ok', api: 3, lake: 3 },
      { domain: 'ny.example', status: 'off', api: 3, lake: 2 },
    ]);
  });
});

describe('halfOpenCount', () => {
  let sim: RunningSimulator;
  afterAll(async () => {
    await sim?.close();
  });
  it('takes off a record starting exactly at the window end when the server counted it (the simulator’s end is inclusive)', async () => {
    sim = await startSimulator({ domains: 0, clock, dataFrom: new Date('2026-01-01T00:00:00Z') });
    sim.addDomain({ domain: 'edge.example', timeZone: 'US/Pacific' });
    sim.setCdrs(
      'edge.example',
      LA.map((c) => apiRecord('edge.example', c)),
    );
    const source = NetSapiensClient.create({ baseUrl: sim.url, auth: { kind: 'api-key', apiKey: 'nsr_test' }, clock });
    const w = { start: new Date('2026-10-01T07:00:00Z'), end: new Date('2026-11-01T07:00:00Z') };
    expect(await source.countCdrs('edge.example', w)).toMatchObject({ total: 4, seconds: 410 });
    expect(await halfOpenCount(source, 'edge.example', w)).toEqual({ total: 3, seconds: 360, endInclusive: true });
    // Nothing at the end: one probe settles it.
    const w2 = { start: new Date('2026-10-01T07:00:00Z'), end: new Date('2026-10-20T00:00:00Z') };
    expect(await halfOpenCount(source, 'edge.example', w2)).toEqual({ total: 2, seconds: 320 });
  });
});

describe('judge', () => {
  const base = {
    apiTotal: 5,
    apiSeconds: 100,
    lakeTotal: 5,
    lakeSeconds: 100,
    duplicateIds: 0,
    rejects: 0,
    openAnomalies: 0,
    listedByApi: true,
  };
  it('is ok when everything matches, noting leftovers', () => {
    expect(judge(base)).toEqual({ status: 'ok', detail: '' });
    expect(judge({ ...base, openAnomalies: 1 })).toEqual({ status: 'ok', detail: '1 open anomaly' });
  });
  it('is off on duplicates, seconds, and unknown domains', () => {
    expect(judge({ ...base, duplicateIds: 2 }).detail).toBe('2 CDR id(s) stored more than once');
    expect(judge({ ...base, lakeSeconds: 90 }).status).toBe('off');
    expect(judge({ ...base, listedByApi: false, apiTotal: 0, apiSeconds: 0 }).detail).toMatch(/API does not list it/);
  });
});

describe('month to date', () => {
  it('compares the month in progress up to the ingest watermark', async () => {
    const now = new FixedClock(new Date('2026-10-20T12:00:00Z'));
    const sim = await startSimulator({ domains: 0, clock: now, dataFrom: new Date('2026-01-01T00:00:00Z') });
    try {
      sim.addDomain({ domain: 'ny.example', timeZone: 'America/New_York' });
      sim.setCdrs(
        'ny.example',
        NY.map((c) => apiRecord('ny.example', c)),
      );
      const source = NetSapiensClient.create({ baseUrl: sim.url, auth: { kind: 'api-key', apiKey: 'nsr_test' }, clock: now });
      const dataDir = await tempDir();
      const config = await deckConfig(dataDir);
      // Ingest has made the month durable up to the 15th; ny-2 (the 20th) is not in the lake yet.
      await writeLake(
        dataDir,
        NY.slice(0, 1).map((c) => lakeRow('ny.example', c)),
      );
      await withState(dataDir, (db) =>
        db.run(`INSERT INTO watermarks VALUES ('ny.example', '2026-10-15T00:00:00Z', '2026-10-15T00:00:00Z')`),
      );
      const r = await runReconcile({ dataDir, config, source, month: '2026-10', logger: silentLogger(), clock: now });
      expect(r.off).toEqual([]);
      expect(r.rows[0]).toMatchObject({
        monthToDate: true,
        windowEnd: '2026-10-15T00:00:00.000Z',
        apiTotal: 1,
        lakeTotal: 1,
        status: 'ok',
      });
      expect(r.rows[0]!.detail).toMatch(/^month to date, up to 2026-10-15T00:00:00.000Z/);
    } finally {
      await sim.close();
    }
  });
});
