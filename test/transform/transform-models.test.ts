import { describe, expect, it } from 'vitest';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Db, withDb, type JsonRow } from '../../pipeline/db/duckdb.ts';
import { warehousePath } from '../../pipeline/lake/layout.ts';
import { resolveProjectPath } from '../../pipeline/config/load-config.ts';
import { assertTransformTestsPass, runTransform } from '../../pipeline/transform/run-transform.ts';
import { assertWarehouseTestsPass, DataTestFailedError } from '../../pipeline/transform/data-tests.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { ConfigError } from '../../pipeline/util/errors.ts';
import { withState } from '../../pipeline/state/state-db.ts';
import { TEST_DECK, deckConfig, writeDomains, writeLake, type FixtureCdr } from './lake-fixture.ts';
import { tempDir } from '../support/temp-dir.ts';

const NOV20 = new FixedClock(new Date('2026-11-20T12:00:00Z'));
const q = (dataDir: string, sql: string) => withDb(warehousePath(dataDir), (db) => db.all(sql), { readOnly: true });

const out = (
  domain: string,
  id: string,
  start: string,
  talk_s: number,
  dialed = '2125550199',
  extra: Partial<FixtureCdr> = {},
): FixtureCdr => ({
  domain,
  id,
  start,
  direction: 'outbound',
  talk_s,
  orig_user: '101',
  term_user: null,
  caller_number: '2125550100',
  dialed_number: dialed,
  ...extra,
});

describe('local time: the customer time zone decides the month, day and hour', () => {
  it('puts 23:59:59 and 00:00:00 local on a month boundary in different local months, whatever the UTC month', async () => {
    const dataDir = await tempDir();
    const config = await deckConfig(dataDir);
    await writeDomains(dataDir, [
      { domain: 'la.example', time_zone: 'US/Pacific' },
      { domain: 'ny.example', time_zone: 'America/New_York' },
    ]);
    await writeLake(dataDir, [
      out('la.example', 'la-last', '2026-11-01T06:59:59Z', 30), // Oct 31 23:59:59 PDT, UTC month 2026-11
      out('la.example', 'la-first', '2026-11-01T07:00:00Z', 30), // Nov 1 00:00:00 PDT
      out('ny.example', 'ny-last', '2026-10-01T03:59:59Z', 30), // Sep 30 23:59:59 EDT, UTC month 2026-10
      out('ny.example', 'ny-first', '2026-10-01T04:00:00Z', 30), // Oct 1 00:00:00 EDT
    ]);
    const s = await runTransform({ dataDir, config, logger: silentLogger(), clock: NOV20 });
    expect(s.failedTests).toEqual([]);
    const rows = await q(
      dataDir,
      `SELECT id, local_month, CAST(local_date AS VARCHAR) AS local_date, local_hour, strftime(start_local, '%H:%M:%S') AS t FROM calls ORDER BY id`,
    );
    expect(rows).toEqual([
      { id: 'la-first', local_month: '2026-11', local_date: '2026-11-01', local_hour: 0, t: '00:00:00' },
      { id: 'la-last', local_month: '2026-10', local_date: '2026-10-31', local_hour: 23, t: '23:59:59' },
      { id: 'ny-first', local_month: '2026-10', local_date: '2026-10-01', local_hour: 0, t: '00:00:00' },
      { id: 'ny-last', local_month: '2026-09', local_date: '2026-09-30', local_hour: 23, t: '23:59:59' },
    ]);
    const months = await q(dataDir, `SELECT domain, local_month, calls FROM usage_monthly ORDER BY ALL`);
    expect(months).toEqual([
      { domain: 'la.example', local_month: '2026-10', calls: 1 },
      { domain: 'la.example', local_month: '2026-11', calls: 1 },
      { domain: 'ny.example', local_month: '2026-09', calls: 1 },
      { domain: 'ny.example', local_month: '2026-10', calls: 1 },
    ]);
  });

  it('handles the US DST weekends (2026-03-08 spring forward, 2026-11-01 fall back)', async () => {
    const dataDir = await tempDir();
    const config = await deckConfig(dataDir, {
      customers: { defaults: { plan: 'standard' }, domains: { 'dst.example': { timeZone: 'America/New_York' } } },
    });
    // The PBX says UTC; the config override wins.
    await writeDomains(dataDir, [{ domain: 'dst.example', time_zone: 'UTC' }]);
    await writeLake(dataDir, [
      out('dst.example', 'spring-before', '2026-03-08T06:59:59Z', 10), // 01:59:59 EST
      out('dst.example', 'spring-after', '2026-03-08T07:00:00Z', 10), // 03:00:00 EDT (02:xx never happens)
      out('dst.example', 'fall-first', '2026-11-01T05:30:00Z', 10), // 01:30 EDT
      out('dst.example', 'fall-second', '2026-11-01T06:30:00Z', 10), // 01:30 EST, an hour later
    ]);
    await runTransform({ dataDir, config, logger: silentLogger(), clock: NOV20 });
    const rows = await q(
      dataDir,
      `SELECT id, strftime(start_local, '%Y-%m-%d %H:%M:%S') AS local, local_hour FROM calls ORDER BY start_time`,
    );
    expect(rows).toEqual([
      { id: 'spring-before', local: '2026-03-08 01:59:59', local_hour: 1 },
      { id: 'spring-after', local: '2026-03-08 03:00:00', local_hour: 3 },
      { id: 'fall-first', local: '2026-11-01 01:30:00', local_hour: 1 },
      { id: 'fall-second', local: '2026-11-01 01:30:00', local_hour: 1 },
    ]);
    const tz = await q(dataDir, `SELECT time_zone, time_zone_source, pbx_time_zone FROM domains`);
    expect(tz).toEqual([{ time_zone: 'America/New_York', time_zone_source: 'config', pbx_time_zone: 'UTC' }]);
    const hourly = await q(dataDir, `SELECT local_month, local_hour, calls FROM usage_hourly ORDER BY ALL`);
    expect(hourly).toEqual([
      { local_month: '2026-03', local_hour: 1, calls: 1 },
      { local_month: '2026-03', local_hour: 3, calls: 1 },
      { local_month: '2026-11', local_hour: 1, calls: 2 },
    ]);
  });
});

describe('numbers and classes', () => {
  it('normalises to E.164 and classifies', async () => {
    const db = await Db.open(':memory:');
    try {
      await db.exec(await readFile(resolveProjectPath('reports/macros/numbers.sql'), 'utf8'));
      const cases: [string, string | null, string][] = [
        ['2125550100', '+12125550100', 'domestic'],
        ['1 (212) 555-0100', '+12125550100', 'domestic'],
        ['+1 212 555 0100', '+12125550100', 'domestic'],
        ['sip:12125550100@pbx.example;user=phone', '+12125550100', 'domestic'],
        ['011442071234567', '+442071234567', 'international'],
        ['+919876543210', '+919876543210', 'international'],
        ['18005551212', '+18005551212', 'toll-free'],
        ['8335551212', '+18335551212', 'toll-free'],
        ['19005550100', '+19005550100', 'premium'],
        ['18765550123', '+18765550123', 'international'], // Jamaica: NANP but not domestic
        ['4165550199', '+14165550199', 'domestic'], // Canada
        ['1105550100', null, 'unknown'], // area codes never start with 1
        ['101', null, 'unknown'],
        ['anonymous', null, 'unknown'],
      ];
      for (const [input, e164, cls] of cases) {
        const r = await db.one<{ e: string | null; c: string }>(`SELECT to_e164($1) AS e, number_class(to_e164($1)) AS c`, [input]);
        expect({ input, e: r?.e, c: r?.c }).toEqual({ input, e: e164, c: cls });
      }
      const em = await db.one<{ a: boolean; b: boolean; c: boolean }>(
        `SELECT is_emergency_code('911') a, is_emergency_code('9911') b, is_emergency_code('+919111234567') c`,
      );
      expect(em).toEqual({ a: true, b: true, c: false });
    } finally {
      db.close();
    }
  });

  it('flags registration noise and self-calls without dropping them; emergency is free; 911 never matches India', async () => {
    const dataDir = await tempDir();
    const config = await deckConfig(dataDir);
    await writeDomains(dataDir, [{ domain: 'x.example', time_zone: 'America/Chicago' }]);
    await writeLake(dataDir, [
      {
        domain: 'x.example',
        id: 'noise',
        start: '2026-10-05T15:00:00Z',
        direction: 'inbound',
        talk_s: 0,
        duration_s: 0,
        term_user: '101',
        reason: 'Term: Reg Expired',
      },
      out('x.example', 'self', '2026-10-05T15:01:00Z', 20, '101', { term_user: '101', direction: 'internal' }),
      out('x.example', 'e911', '2026-10-05T15:02:00Z', 120, '911'),
      out('x.example', 'delhi', '2026-10-05T15:03:00Z', 60, '+911123456789'),
      out('x.example', 'tf', '2026-10-05T15:04:00Z', 60, '18005551212'),
      out('x.example', 'shortcode', '2026-10-05T15:05:00Z', 60, '*97'),
    ]);
    const s = await runTransform({ dataDir, config, logger: silentLogger(), clock: NOV20 });
    expect(s.failedTests).toEqual([]);
    expect(s.warnedTests).toEqual(['unbillable_calls_none']);
    const rows = await q(
      dataDir,
      `SELECT id, call_class, is_reg_noise, is_self_call, billable, rate_prefix, billable_s, charge FROM rated_calls ORDER BY id`,
    );
    expect(rows).toEqual([
      {
        id: 'delhi',
        call_class: 'international',
        is_reg_noise: false,
        is_self_call: false,
        billable: true,
        rate_prefix: '+91',
        billable_s: 60,
        charge: '0.030000',
      },
      {
        id: 'e911',
        call_class: 'emergency',
        is_reg_noise: false,
        is_self_call: false,
        billable: true,
        rate_prefix: '911',
        billable_s: 120,
        charge: '0.000000',
      },
      {
        id: 'noise',
        call_class: 'unknown',
        is_reg_noise: true,
        is_self_call: false,
        billable: false,
        rate_prefix: null,
        billable_s: 0,
        charge: '0.000000',
      },
      {
        id: 'self',
        call_class: 'internal',
        is_reg_noise: false,
        is_self_call: true,
        billable: false,
        rate_prefix: null,
        billable_s: 0,
        charge: '0.000000',
      },
      {
        id: 'shortcode',
        call_class: 'unknown',
        is_reg_noise: false,
        is_self_call: false,
        billable: true,
        rate_prefix: null,
        billable_s: 0,
        charge: '0.000000',
      },
      {
        id: 'tf',
        call_class: 'toll-free',
        is_reg_noise: false,
        is_self_call: false,
        billable: true,
        rate_prefix: '+1800',
        billable_s: 60,
        charge: '0.000000',
      },
    ]);
    const m = await q(dataDir, `SELECT calls, reg_noise_legs, self_calls FROM usage_monthly`);
    expect(m).toEqual([{ calls: 4, reg_noise_legs: 1, self_calls: 1 }]);
  });
});

describe('rating in the warehouse', () => {
  it('uses the rate in force on the call’s local date (price change mid-month)', async () => {
    const dataDir = await tempDir();
    const config = await deckConfig(dataDir);
    await writeDomains(dataDir, [{ domain: 'ny.example', time_zone: 'America/New_York' }]);
    await writeLake(dataDir, [
      out('ny.example', 'oct14', '2026-10-14T16:00:00Z', 600),
      out('ny.example', 'oct14-late', '2026-10-15T02:00:00Z', 600), // 22:00 on the 14th in New York
      out('ny.example', 'oct15', '2026-10-15T04:00:00Z', 600), // 00:00 on the 15th
    ]);
    await runTransform({ dataDir, config, logger: silentLogger(), clock: NOV20 });
    const rows = await q(dataDir, `SELECT id, per_minute, charge FROM rated_calls ORDER BY id`);
    expect(rows).toEqual([
      { id: 'oct14', per_minute: '0.012000', charge: '0.120000' },
      { id: 'oct14-late', per_minute: '0.012000', charge: '0.120000' },
      { id: 'oct15', per_minute: '0.011000', charge: '0.110000' },
    ]);
  });

  it('consumes the included pool in call order and bills only the excess of the call that exhausts it', async () => {
    const dataDir = await tempDir();
    const deck = TEST_DECK.replace('+1,US domestic,0.012,6,6,0,0,2026-01-01', '+1,US domestic,1.20,6,6,0,0.01,2026-01-01').replace(
      /\+1,US domestic,0.011.*\n/,
      '',
    );
    const config = await deckConfig(dataDir, {
      deck,
      customers: { defaults: { plan: 'standard' }, domains: { 'p.example': { includedMinutes: 1 } } },
    });
    await writeDomains(dataDir, [{ domain: 'p.example', time_zone: 'UTC' }]);
    await writeLake(dataDir, [
      out('p.example', 'c3', '2026-10-03T10:00:00Z', 12),
      out('p.example', 'c1', '2026-10-01T10:00:00Z', 40),
      out('p.example', 'c2b', '2026-10-02T10:00:00Z', 40), // same start as c2a: id orders them
      out('p.example', 'c2a', '2026-10-02T10:00:00Z', 30, '+442071234567'), // international: not from the pool
      out('p.example', 'in', '2026-10-02T11:00:00Z', 60, '2125550100', {
        direction: 'inbound',
        caller_number: '3105550000',
        orig_user: null,
        term_user: '101',
      }),
      out('p.example', 'nov', '2026-11-01T10:00:00Z', 40), // a new month, a new pool
    ]);
    await runTransform({ dataDir, config, logger: silentLogger(), clock: NOV20 });
    const rows = await q(dataDir, `SELECT id, billable_s, included_s, charged_s, charge FROM rated_calls ORDER BY start_time, id`);
    expect(rows).toEqual([
      { id: 'c1', billable_s: 42, included_s: 42, charged_s: 0, charge: '0.010000' }, // connect fee only
      { id: 'c2a', billable_s: 60, included_s: 0, charged_s: 60, charge: '0.020000' },
      { id: 'c2b', billable_s: 42, included_s: 18, charged_s: 24, charge: '0.490000' }, // 24 s * 1.20/60 + 0.01
      { id: 'in', billable_s: 60, included_s: 0, charged_s: 60, charge: '0.010000' }, // inbound 0.009/min -> 0.009 -> 0.01
      { id: 'c3', billable_s: 12, included_s: 0, charged_s: 12, charge: '0.250000' },
      { id: 'nov', billable_s: 42, included_s: 42, charged_s: 0, charge: '0.010000' },
    ]);
    const m = await q(
      dataDir,
      `SELECT local_month, included_s_used::INTEGER AS included_s_used, included_s_total::INTEGER AS included_s_total, charge FROM usage_monthly ORDER BY 1`,
    );
    expect(m).toEqual([
      { local_month: '2026-10', included_s_used: 60, included_s_total: 60, charge: '0.780000' },
      { local_month: '2026-11', included_s_used: 42, included_s_total: 60, charge: '0.010000' },
    ]);
  });

  it('totals in every model add up to the same grand total', async () => {
    const dataDir = await tempDir();
    const config = await deckConfig(dataDir);
    await writeDomains(dataDir, [
      { domain: 'a.example', time_zone: 'US/Pacific' },
      { domain: 'b.example', time_zone: 'Asia/Kolkata' },
    ]);
    const nums = ['2125550199', '+442071234567', '+447700900123', '19005550100', '+639171234567', '+919876543210', '18005551212'];
    const cdrs: FixtureCdr[] = [];
    for (let i = 0; i < 300; i++) {
      const dom = i % 3 === 0 ? 'b.example' : 'a.example';
      const dir = (['outbound', 'outbound', 'inbound', 'missed', 'internal'] as const)[i % 5]!;
      cdrs.push({
        domain: dom,
        id: `t${i}`,
        start: new Date(Date.UTC(2026, 9, 28) + i * 3_600_000 * 1.7).toISOString(),
        direction: dir,
        talk_s: dir === 'missed' ? 0 : (i * 53) % 1300,
        orig_user: `${100 + (i % 6)}`,
        term_user: `${100 + (i % 4)}`,
        caller_number: dir === 'outbound' ? '2125550100' : '3105550000',
        dialed_number: dir === 'outbound' ? nums[i % nums.length]! : '2125550100',
      });
    }
    await writeLake(dataDir, cdrs);
    const s = await runTransform({ dataDir, config, logger: silentLogger(), clock: NOV20 });
    expect(s.failedTests).toEqual([]);
    const totals = await q(
      dataDir,
      `
      SELECT 'rated_calls' AS m, sum(charge)::VARCHAR AS charge, sum(billable_s)::BIGINT AS s FROM rated_calls
      UNION ALL SELECT 'usage_monthly', sum(charge)::VARCHAR, sum(billable_s)::BIGINT FROM usage_monthly
      UNION ALL SELECT 'charges_by_class', sum(charge)::VARCHAR, sum(billable_s)::BIGINT FROM charges_by_class
      UNION ALL SELECT 'usage_daily', sum(charge)::VARCHAR, sum(billable_s)::BIGINT FROM usage_daily
      UNION ALL SELECT 'usage_by_user', sum(charge)::VARCHAR, sum(billable_s)::BIGINT FROM usage_by_user
      UNION ALL SELECT 'usage_by_number', sum(charge)::VARCHAR, sum(billable_s)::BIGINT FROM usage_by_number`,
    );
    const first = totals[0] as JsonRow;
    expect(Number(first.s)).toBeGreaterThan(0);
    for (const t of totals) expect({ m: t.m, charge: t.charge, s: t.s }).toEqual({ m: t.m, charge: first.charge, s: first.s });
    const calls = await q(
      dataDir,
      `SELECT (SELECT sum(calls) FROM usage_monthly)::BIGINT a, (SELECT sum(calls) FROM usage_daily)::BIGINT b,
      (SELECT sum(calls) FROM usage_by_user)::BIGINT c, (SELECT sum(calls) FROM charges_by_class)::BIGINT d, (SELECT sum(calls) FROM call_quality)::BIGINT e`,
    );
    expect(new Set(Object.values(calls[0]!)).size).toBe(1);
  });

  it('peak concurrency is an exact sweep: back-to-back calls do not overlap', async () => {
    const dataDir = await tempDir();
    const config = await deckConfig(dataDir);
    await writeDomains(dataDir, [{ domain: 'c.example', time_zone: 'UTC' }]);
    await writeLake(dataDir, [
      out('c.example', 'a', '2026-10-01T10:00:00Z', 100, undefined, { duration_s: 100 }), // 10:00:00-10:01:40
      out('c.example', 'b', '2026-10-01T10:00:30Z', 100, undefined, { duration_s: 100 }), // overlaps a
      out('c.example', 'c', '2026-10-01T10:01:00Z', 10, undefined, { duration_s: 10 }), // a, b, c up together
      out('c.example', 'd', '2026-10-01T10:02:10Z', 10, undefined, { duration_s: 10 }), // starts when b ends
      out('c.example', 'm', '2026-10-01T11:00:00Z', 0, undefined, { direction: 'missed', duration_s: 20 }),
    ]);
    await runTransform({ dataDir, config, logger: silentLogger(), clock: NOV20 });
    const cq = await q(dataDir, `SELECT calls, answered, missed, asr::VARCHAR AS asr, acd_s, peak_concurrent FROM call_quality`);
    expect(cq).toEqual([{ calls: 5, answered: 4, missed: 1, asr: '0.800000', acd_s: 55, peak_concurrent: 3 }]);
  });
});

describe('unbillable calls', () => {
  it('lists answered outbound calls no deck row prices, with the reason, and only warns', async () => {
    const dataDir = await tempDir();
    const config = await deckConfig(dataDir);
    await writeDomains(dataDir, [{ domain: 'u.example', time_zone: 'America/New_York' }]);
    await writeLake(dataDir, [
      out('u.example', 'priced', '2026-10-05T15:00:00Z', 60),
      out('u.example', 'feature', '2026-10-05T15:01:00Z', 95, '*97'),
      out('u.example', 'typo', '2026-10-05T15:02:00Z', 30, '212555'),
      out('u.example', 'za', '2026-10-05T15:03:00Z', 125, '+27115550100'), // South Africa: not in the deck
      out('u.example', 'za-unanswered', '2026-10-05T15:04:00Z', 0, '+27115550100'),
      out('u.example', 'za-noise', '2026-10-05T15:05:00Z', 40, '+27115550100', { reason: 'Term: Reg Expired' }),
      out('u.example', 'za-nov', '2026-11-01T03:30:00Z', 20, '011271155501'), // Oct 31 local
    ]);
    const s = await runTransform({ dataDir, config, logger: silentLogger(), clock: NOV20 });
    expect(s.failedTests).toEqual([]);
    expect(s.status).toBe('ok');
    expect(s.warnedTests).toEqual(['unbillable_calls_none']);
    const warned = s.tests.find((t) => t.name === 'unbillable_calls_none')!;
    expect(warned).toMatchObject({ severity: 'warn', status: 'warn', failingRows: 4 });
    const rows = await q(
      dataDir,
      `SELECT domain, id, strftime(start_time AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS start_time, local_month, dialed_number, talk_s, reason FROM unbillable_calls ORDER BY id`,
    );
    expect(rows).toEqual([
      {
        domain: 'u.example',
        id: 'feature',
        start_time: '2026-10-05T15:01:00Z',
        local_month: '2026-10',
        dialed_number: '*97',
        talk_s: 95,
        reason: 'not_e164',
      },
      {
        domain: 'u.example',
        id: 'typo',
        start_time: '2026-10-05T15:02:00Z',
        local_month: '2026-10',
        dialed_number: '212555',
        talk_s: 30,
        reason: 'not_e164',
      },
      {
        domain: 'u.example',
        id: 'za',
        start_time: '2026-10-05T15:03:00Z',
        local_month: '2026-10',
        dialed_number: '+27115550100',
        talk_s: 125,
        reason: 'no_deck_prefix',
      },
      {
        domain: 'u.example',
        id: 'za-nov',
        start_time: '2026-11-01T03:30:00Z',
        local_month: '2026-10',
        dialed_number: '011271155501',
        talk_s: 20,
        reason: 'no_deck_prefix',
      },
    ]);
    // Still in rated_calls at 0 s and nothing: the queue is where they are seen.
    const rated = await q(dataDir, `SELECT id, billable_s, charge FROM rated_calls WHERE id = 'za'`);
    expect(rated).toEqual([{ id: 'za', billable_s: 0, charge: '0.000000' }]);
  });

  it('a mistyped severity header is an error, not a silent change of severity', async () => {
    const dataDir = await tempDir();
    const config = await deckConfig(dataDir);
    await writeDomains(dataDir, [{ domain: 'v.example', time_zone: 'UTC' }]);
    await writeLake(dataDir, [out('v.example', 'a', '2026-10-05T15:00:00Z', 60)]);
    const testsDir = join(dataDir, 'tests');
    await mkdir(testsDir);
    await writeFile(join(testsDir, 'advisory.sql'), `-- severity: warning\n-- Any call at all.\nSELECT id FROM calls\n`);
    const s = await runTransform({ dataDir, config, logger: silentLogger(), clock: NOV20, testsDir });
    expect(s.failedTests).toEqual(['advisory']);
    expect(s.tests[0]?.error).toMatch(/"-- severity: warning" is not one of error, warn/);
  });
});

describe('data tests', () => {
  it('catch duplicate CDR versions, bill the latest once, and block reports', async () => {
    const dataDir = await tempDir();
    const config = await deckConfig(dataDir);
    await writeDomains(dataDir, [{ domain: 'd.example', time_zone: 'UTC' }]);
    await writeLake(
      dataDir,
      [out('d.example', 'dup', '2026-10-01T10:00:00Z', 60, undefined, { ingested_at: '2026-10-01T11:00:00Z' })],
      'a.parquet',
    );
    await writeLake(
      dataDir,
      [out('d.example', 'dup', '2026-10-01T10:00:00Z', 120, undefined, { ingested_at: '2026-10-02T11:00:00Z' })],
      'b.parquet',
    );
    const s = await runTransform({ dataDir, config, logger: silentLogger(), clock: NOV20 });
    expect(s.status).toBe('failed');
    expect(s.failedTests).toEqual(['cdrs_unique_domain_id']);
    const failure = s.tests.find((t) => t.name === 'cdrs_unique_domain_id')!;
    expect(failure.failingRows).toBe(1);
    expect(failure.sample[0]).toMatchObject({ domain: 'd.example', id: 'dup', versions: '2' });
    expect(() => assertTransformTestsPass(s)).toThrow(DataTestFailedError);
    await expect(assertWarehouseTestsPass(dataDir)).rejects.toThrow(/cdrs_unique_domain_id/);
    const rows = await q(dataDir, `SELECT id, talk_s FROM calls`);
    expect(rows).toEqual([{ id: 'dup', talk_s: 120 }]);
  });

  it('catch talk longer than duration, a null start and an unknown direction', async () => {
    const dataDir = await tempDir();
    const config = await deckConfig(dataDir);
    await writeLake(dataDir, [
      out('e.example', 'long', '2026-10-01T10:00:00Z', 60, undefined, { duration_s: 30 }),
      out('e.example', 'weird', '2026-10-01T10:05:00Z', 10, undefined, { direction: 'sideways' }),
    ]);
    const s = await runTransform({ dataDir, config, logger: silentLogger(), clock: NOV20 });
    expect(s.failedTests.sort()).toEqual(['cdrs_direction_accepted_values', 'cdrs_talk_within_duration']);
    await expect(assertWarehouseTestsPass(dataDir)).rejects.toThrow(DataTestFailedError);
  });
});

describe('re-rating', () => {
  it('keeps a closed month on the plan version it was rated with until --rerate', async () => {
    const dataDir = await tempDir();
    let config = await deckConfig(dataDir);
    await writeDomains(dataDir, [{ domain: 'r.example', time_zone: 'UTC' }]);
    await writeLake(dataDir, [out('r.example', 'oct', '2026-10-20T10:00:00Z', 600), out('r.example', 'nov', '2026-11-10T10:00:00Z', 600)]);
    const first = await runTransform({ dataDir, config, logger: silentLogger(), clock: NOV20 });
    expect(first.ratedMonths).toEqual([
      { domain: 'r.example', localMonth: '2026-10', planId: 'standard', planVersion: 'v1', frozen: true },
      { domain: 'r.example', localMonth: '2026-11', planId: 'standard', planVersion: 'v1', frozen: false },
    ]);

    // New prices under the same version: refused.
    const deck2 = TEST_DECK.replace('+1,US domestic,0.011,6,6,0,0,2026-10-15', '+1,US domestic,0.020,6,6,0,0,2026-10-15');
    await writeFile(join(dataDir, 'deck.csv'), deck2);
    await expect(runTransform({ dataDir, config, logger: silentLogger(), clock: NOV20 })).rejects.toThrow(ConfigError);
    await expect(runTransform({ dataDir, config, logger: silentLogger(), clock: NOV20 })).rejects.toThrow(/plans\.standard\.version/);

    // New prices under a new version: the open month takes them, the frozen month does not.
    config = await deckConfig(dataDir, { deck: deck2, plan: { version: 'v2' } });
    await runTransform({ dataDir, config, logger: silentLogger(), clock: NOV20 });
    expect(await q(dataDir, `SELECT id, plan_version, charge FROM rated_calls ORDER BY id`)).toEqual([
      { id: 'nov', plan_version: 'v2', charge: '0.200000' },
      { id: 'oct', plan_version: 'v1', charge: '0.110000' },
    ]);

    // The explicit command re-rates October with today's plan, and freezes it again.
    const rr = await runTransform({ dataDir, config, logger: silentLogger(), clock: NOV20, rerate: { month: '2026-10' } });
    expect(rr.rerated).toEqual({ month: '2026-10', domains: 'all', released: 1 });
    expect(await q(dataDir, `SELECT id, plan_version, charge FROM rated_calls ORDER BY id`)).toEqual([
      { id: 'nov', plan_version: 'v2', charge: '0.200000' },
      { id: 'oct', plan_version: 'v2', charge: '0.200000' },
    ]);
    const runs = await withState(dataDir, (db) => db.all(`SELECT month, plan_version, frozen FROM rating_runs ORDER BY month`));
    expect(runs).toEqual([
      { month: '2026-10', plan_version: 'v2', frozen: true },
      { month: '2026-11', plan_version: 'v2', frozen: false },
    ]);
  });
});
