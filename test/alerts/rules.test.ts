/**
 * The default alert rules against the simulator's fraud scenarios (ground truth of which calls
 * are fraud), a late page, and incremental evaluation tick by tick against a backtest of the
 * same lake. The lake is written by the real ingest from the simulator over HTTP.
 */
import { copyFileSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateAlerts, type AlertFinding } from '../../pipeline/alerts/index.ts';
import { runIngest } from '../../pipeline/extract/run-ingest.ts';
import { NetSapiensClient } from '../../pipeline/source/index.ts';
import { fraudScenario, startSimulator, type FraudScenario, type RunningSimulator } from '../../pipeline/simulator/index.ts';
import { FixedClock, systemClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { tempDir } from '../support/temp-dir.ts';
import { TEST_PLAN, testConfig } from '../support/test-config.ts';

const FROM = new Date('2026-09-20T00:00:00Z');
const TO = new Date('2026-10-30T00:00:00Z');
/** The first tick lands in the middle of the hijack (07:00-09:00 UTC on Oct 21). */
const TICKS = [new Date('2026-10-21T07:40:00Z'), new Date('2026-10-31T00:00:00Z')];
const LATE_TICK = new Date('2026-10-31T01:00:00Z');

let sim: RunningSimulator;
let dir: string;
const clock = new FixedClock(TICKS[0]!);
const config = testConfig({ ingest: { initialBackfillDays: 45 } });
const scenarios: Record<string, FraudScenario> = {};
const live: AlertFinding[][] = [];
let backtest: AlertFinding[];
let lateCalls = 0;
let afterLate: { since: Date | null; seen: ReadonlyMap<string, string> | undefined } = { since: null, seen: undefined };

const ctx = () => ({ dataDir: dir, config, clock, logger: silentLogger() });
const identity = (f: AlertFinding) => `${f.rule}|${f.domain}|${f.key}|${f.windowStart.toISOString()}|${f.windowEnd.toISOString()}`;
const rulesOf = (fs: AlertFinding[], domain: string) => [...new Set(fs.filter((f) => f.domain === domain).map((f) => f.rule))].sort();

beforeAll(async () => {
  dir = await tempDir('cdrpipe-alerts-', { scope: 'file' });
  sim = await startSimulator({ seed: 5, domains: 5, clock, dataFrom: FROM, dataTo: TO });
  const [hijacked, wangiri, drip, conference, unusual] = sim.profiles();
  const add = (s: FraudScenario) => {
    scenarios[`${s.scenario}:${s.domain}`] = s;
    sim.addCdrs(s.domain, s.records);
    return s;
  };
  add(fraudScenario(hijacked!, { scenario: 'hijacked-extension', at: new Date('2026-10-21T07:00:00Z') }));
  add(fraudScenario(wangiri!, { scenario: 'wangiri', at: new Date('2026-10-21T15:03:00Z') }));
  add(fraudScenario(drip!, { scenario: 'slow-drip', at: new Date('2026-10-21T14:00:00Z') }));
  // The same busy conference day, once with four ordinary conference weeks before it, once without.
  add(fraudScenario(conference!, { scenario: 'conference-day', at: new Date('2026-10-20T14:00:00Z') }));
  add(fraudScenario(unusual!, { scenario: 'conference-day', at: new Date('2026-10-20T14:00:00Z'), weeks: 0 }));
  const source = () =>
    NetSapiensClient.create({ baseUrl: sim.url, auth: { kind: 'api-key', apiKey: 'k' }, clock: systemClock, timeoutMs: 10_000 });
  // Each pass is given what the previous one recorded: its cursor and the lake files it listed,
  // so it opens only the files rewritten since (the late page below rewrites last week's).
  let since: Date | null = new Date(0);
  let seen: ReadonlyMap<string, string> | undefined;
  for (const tick of TICKS) {
    clock.set(tick);
    await runIngest({ ...ctx(), source: source() });
    const r = await evaluateAlerts(ctx(), { kind: 'live', since, seen });
    expect(r.cursor?.getTime()).toBe(tick.getTime());
    live.push(r.findings);
    since = r.cursor;
    seen = r.lakeFiles;
  }
  // Nothing rewritten since the last pass: no file is opened, nothing is new.
  expect((await evaluateAlerts(ctx(), { kind: 'live', since, seen })).callsEvaluated).toBe(0);
  // A page from last week arrives late: a wangiri burst of Oct 14, re-read by a backfill of that day.
  clock.set(LATE_TICK);
  add(fraudScenario(wangiri!, { scenario: 'wangiri', at: new Date('2026-10-14T03:30:00Z'), seed: 2 }));
  await runIngest({
    ...ctx(),
    source: source(),
    from: new Date('2026-10-14T00:00:00Z'),
    to: new Date('2026-10-15T00:00:00Z'),
    domains: [wangiri!.domain],
  });
  const late = await evaluateAlerts(ctx(), { kind: 'live', since, seen });
  lateCalls = late.callsEvaluated;
  afterLate = { since: late.cursor, seen: late.lakeFiles };
  live.push(late.findings);
  backtest = (await evaluateAlerts(ctx(), { kind: 'backtest', from: FROM, to: TO })).findings;
}, 240_000);

afterAll(async () => {
  await sim?.close();
});

describe('default alert rules on the fraud scenarios', () => {
  it('a hijacked extension night burst trips every outbound rule, on fraudulent calls only', () => {
    const s = Object.values(scenarios).find((x) => x.scenario === 'hijacked-extension')!;
    expect(rulesOf(backtest, s.domain)).toEqual(
      ['concurrency', 'extension-burst', 'new-destination-country', 'out-of-hours-high-cost', 'single-call', 'spend-velocity'].sort(),
    );
    const fraud = new Set(s.fraudulentIds);
    for (const f of backtest.filter((x) => x.domain === s.domain)) {
      const ids = [f.evidence.sample_calls, f.evidence.top_calls, f.evidence.calls].find(Array.isArray) as string[] | undefined;
      expect(ids, `${f.rule} names its calls`).toBeDefined();
      for (const id of ids!) expect(fraud.has(id), `${f.rule} evidence ${id} is a fraudulent call`).toBe(true);
    }
    // +252 is not in the deck: its cost is a fallback estimate, and the alert says so.
    const somalia = backtest.find((f) => f.domain === s.domain && f.rule === 'new-destination-country' && f.key === '252')!;
    expect(somalia.estimated).toBe(true);
    expect(somalia.message).toMatch(/estimated/);
    const velocity = backtest.find((f) => f.domain === s.domain && f.rule === 'spend-velocity')!;
    expect(velocity.message).toMatch(/hourly cap/);
  });

  it('a wangiri burst raises one wangiri alert for its country code, a late one in its own window', () => {
    const domain = Object.values(scenarios).find((x) => x.scenario === 'wangiri')!.domain;
    const w = backtest.filter((f) => f.domain === domain);
    expect(w.map((f) => [f.rule, f.key, f.windowStart.toISOString()])).toEqual([
      ['wangiri', '216', '2026-10-14T03:30:00.000Z'],
      ['wangiri', '216', '2026-10-21T15:00:00.000Z'],
    ]);
    expect(w[1]!.calls).toBe(12);
    // The late page was judged by the evaluation after it landed, in last week's window.
    expect(live[2]!.map((f) => [f.rule, f.domain, f.windowStart.toISOString()])).toEqual([['wangiri', domain, '2026-10-14T03:30:00.000Z']]);
    expect(lateCalls).toBeGreaterThan(0);
  });

  it('a slow drip under the hourly cap is caught against the baseline', () => {
    const domain = Object.values(scenarios).find((x) => x.scenario === 'slow-drip')!.domain;
    const v = backtest.filter((f) => f.domain === domain && f.rule === 'spend-velocity');
    expect(v.length).toBe(8);
    for (const f of v) {
      expect(Number(f.amount)).toBeLessThan(100);
      expect(f.message).toMatch(/times its usual/);
    }
  });

  it('a conference day twice as busy as its usual weeks raises nothing; without those weeks it is unusual', () => {
    const [withBaseline, without] = Object.values(scenarios).filter((x) => x.scenario === 'conference-day');
    expect(withBaseline!.fraudulentIds).toEqual([]);
    expect(backtest.filter((f) => f.domain === withBaseline!.domain)).toEqual([]);
    expect(rulesOf(backtest, without!.domain)).toEqual(['spend-velocity']);
  });

  it('keeps alerting when billing cannot: with the rate deck unreadable every charge is a fallback estimate', async () => {
    const broken = testConfig({
      ingest: { initialBackfillDays: 45 },
      plans: { standard: { ...TEST_PLAN, rateDeck: 'reports/rates/no-such-deck.csv' } },
    });
    const domain = Object.values(scenarios).find((x) => x.scenario === 'hijacked-extension')!.domain;
    const r = await evaluateAlerts(
      { ...ctx(), config: broken },
      { kind: 'backtest', from: new Date('2026-10-21T07:00:00Z'), to: new Date('2026-10-21T09:00:00Z') },
    );
    const velocity = r.findings.filter((f) => f.domain === domain && f.rule === 'spend-velocity');
    expect(velocity.map((f) => f.windowStart.toISOString())).toEqual(['2026-10-21T07:00:00.000Z', '2026-10-21T08:00:00.000Z']);
    for (const f of velocity) {
      expect(f.estimated).toBe(true);
      expect(f.message).toMatch(/fallback rates/);
    }
  });

  it('incremental evaluation tick by tick raises exactly what the backtest raises', () => {
    const byId = new Map<string, AlertFinding>();
    for (const f of live.flat()) {
      const seen = byId.get(identity(f));
      if (!seen || Number(f.amount ?? 0) >= Number(seen.amount ?? 0)) byId.set(identity(f), f);
    }
    const summary = (fs: Iterable<AlertFinding>) => [...fs].map((f) => `${identity(f)}|${f.calls}|${f.amount}`).sort();
    expect(summary(byId.values())).toEqual(summary(backtest));
    // The first tick saw the hijack half-way: the same alert, with a smaller amount.
    const firstVelocity = live[0]!.find((f) => f.rule === 'spend-velocity' && f.windowStart.toISOString() === '2026-10-21T07:00:00.000Z');
    expect(firstVelocity).toBeDefined();
  });

  it('a partition rewritten with no row newer than the cursor gives a quiet pass, not an error', async () => {
    const cdrs = join(dir, 'lake', 'cdrs');
    const file = readdirSync(cdrs, { recursive: true, encoding: 'utf8' }).find((f) => f.endsWith('.parquet'));
    expect(file).toBeDefined();
    // The same bytes as a new file (new inode and time): its stamp changes, its rows do not.
    const path = join(cdrs, file!);
    copyFileSync(path, `${path}.copy`);
    renameSync(`${path}.copy`, path);
    const r = await evaluateAlerts(ctx(), { kind: 'live', since: afterLate.since, seen: afterLate.seen });
    expect(r.callsEvaluated).toBe(0);
    expect(r.findings).toEqual([]);
    expect(r.cursor?.getTime()).toBe(afterLate.since?.getTime());
  });
});
