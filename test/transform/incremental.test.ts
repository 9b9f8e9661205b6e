import { describe, expect, it } from 'vitest';
import { copyFile, cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withDb, type Db, type JsonRow } from '../../pipeline/db/duckdb.ts';
import { warehousePath } from '../../pipeline/lake/layout.ts';
import { runTransform, type TransformSummary } from '../../pipeline/transform/run-transform.ts';
import type { CdrpipeConfig } from '../../pipeline/config/config-schema.ts';
import { resolveProjectPath } from '../../pipeline/config/load-config.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { deckConfig, TEST_DECK, writeDomains, writeLake, type FixtureCdr } from './lake-fixture.ts';
import { tempDir } from '../support/temp-dir.ts';

const NOV20 = new FixedClock(new Date('2026-11-20T12:00:00Z'));
const DEC02 = new FixedClock(new Date('2026-12-02T12:00:00Z'));
// UTC, behind UTC and ahead of it: the Auckland month starts in the previous UTC month.
const DOMAINS = [
  { domain: 'utc.example', time_zone: 'UTC' },
  { domain: 'ny.example', time_zone: 'America/New_York' },
  { domain: 'akl.example', time_zone: 'Pacific/Auckland' },
];
const NUMBERS = ['2125550199', '+442071234567', '+447700900123', '18005550100', '19005550100', '+919812345678', '411'];

/** n calls of a domain spread over a UTC month, including the first and last hours (which local month they fall in depends on the zone). */
function monthOfCalls(domain: string, month: string, n: number, tag = ''): FixtureCdr[] {
  const out: FixtureCdr[] = [];
  const start = Date.parse(`${month}-01T00:30:00Z`);
  const span = 29 * 86_400_000;
  for (let i = 0; i < n; i++) {
    const at = new Date(i === n - 1 ? Date.parse(`${month}-01T00:00:00Z`) + 30 * 86_400_000 - 3_600_000 : start + (span * i) / n);
    const dir = i % 4 === 0 ? 'inbound' : i % 7 === 0 ? 'internal' : 'outbound';
    out.push({
      domain,
      id: `${domain}-${month}-${tag}${i}`,
      start: at.toISOString(),
      direction: dir,
      talk_s: i % 5 === 0 ? 0 : 20 + ((i * 37) % 400),
      orig_user: dir === 'inbound' ? null : `1${i % 3}`,
      term_user: dir === 'inbound' ? `1${i % 3}` : dir === 'internal' ? '19' : null,
      caller_number: dir === 'inbound' ? NUMBERS[i % NUMBERS.length]! : '2125550100',
      dialed_number: dir === 'inbound' ? '2125550100' : NUMBERS[i % NUMBERS.length]!,
    });
  }
  return out;
}

/** The lake: 3 domains x Sep-Nov, one partition file each (rewriting a domain replaces only its partitions). */
function lakeOf(domain: string, extra: FixtureCdr[] = []): FixtureCdr[] {
  return [...['2026-09', '2026-10', '2026-11'].flatMap((m) => monthOfCalls(domain, m, 24)), ...extra];
}

const transform = (dataDir: string, config: CdrpipeConfig, clock: FixedClock, full = false, modelsDir?: string) =>
  runTransform({ dataDir, config, logger: silentLogger(), clock, full, ...(modelsDir ? { modelsDir } : {}) });

/** A lake of one UTC domain, its config, and a copy of the project's models for a test to edit. */
async function oneDomainWithModelsCopy() {
  const dataDir = await tempDir();
  const config = await deckConfig(dataDir);
  await writeDomains(dataDir, DOMAINS.slice(0, 1));
  await writeLake(dataDir, lakeOf('utc.example'));
  const modelsDir = join(dataDir, 'models');
  await cp(resolveProjectPath('reports/models'), modelsDir, { recursive: true });
  return { dataDir, config, modelsDir };
}

async function tableRows(db: Db): Promise<Record<string, JsonRow[]>> {
  const tables = await db.all<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY table_name`,
  );
  const out: Record<string, JsonRow[]> = {};
  for (const { name } of tables) {
    out[`${name} columns`] = await db.all(
      `SELECT column_name, data_type, table_type FROM information_schema.columns JOIN information_schema.tables USING (table_schema, table_name)
       WHERE table_schema = 'main' AND table_name = $1 ORDER BY ordinal_position`,
      [name],
    );
    out[name] = await db.all(`SELECT * FROM main."${name}" ORDER BY ALL`);
  }
  return out;
}

/** Every table of the warehouse just built incrementally, ordered, against a --full rebuild of the same inputs. */
async function expectSameAsFullRebuild(
  dataDir: string,
  config: CdrpipeConfig,
  clock: FixedClock,
  modelsDir?: string,
): Promise<TransformSummary> {
  const incremental = join(dataDir, 'incremental.duckdb');
  await copyFile(warehousePath(dataDir), incremental);
  const full = await transform(dataDir, config, clock, true, modelsDir);
  expect(full.build.mode).toBe('full');
  const [a, b] = await Promise.all([
    withDb(incremental, tableRows, { readOnly: true }),
    withDb(warehousePath(dataDir), tableRows, { readOnly: true }),
  ]);
  expect(Object.keys(a)).toEqual(Object.keys(b));
  for (const name of Object.keys(b)) expect({ table: name, rows: a[name] }).toEqual({ table: name, rows: b[name] });
  return full;
}

/** The plans of models that declare the domain-month grain (the others are rebuilt in every build by design). */
const sliced = <T extends { reason: string }>(models: readonly T[]): T[] => models.filter((m) => !m.reason.startsWith('not incremental'));

describe('incremental transform', () => {
  it('after ticks (new calls, a late CDR, an id in two months, a new deck, a month closing) equals a full rebuild, table by table', async () => {
    const dataDir = await tempDir();
    let config = await deckConfig(dataDir, {
      customers: { defaults: { plan: 'standard' }, domains: { 'ny.example': { includedMinutes: 10 } } },
    });
    await writeDomains(dataDir, DOMAINS);
    await writeLake(
      dataDir,
      DOMAINS.flatMap((d) => lakeOf(d.domain)),
    );

    const first = await transform(dataDir, config, NOV20);
    expect(first.build).toMatchObject({ mode: 'full', fullReason: 'no previous warehouse' });
    // Closed months were frozen after that build: their frozen rating is a new input once.
    const settle = await transform(dataDir, config, NOV20);
    expect(settle.build.mode).toBe('incremental');
    expect(Object.keys(settle.build.changes)).toEqual(['plan']);

    // Nothing changed: nothing recomputed, every incremental model kept (the models without the
    // header, such as the carrier models over the unsliced carrier lake, are rebuilt in every build).
    const idle = await transform(dataDir, config, NOV20);
    expect(idle.build).toMatchObject({ mode: 'incremental', recomputed: 0, changes: {} });
    expect(sliced(idle.build.models).every((m) => m.action === 'keep')).toBe(true);
    expect(idle.build.models.filter((m) => m.action === 'keep').length).toBeGreaterThan(5);
    expect(idle.rows).toBe(first.rows);

    // A tick: new November calls for one domain, a late October CDR (a frozen month) for another, and for
    // the third an id stored again in another month's partition (its start corrected): billed once, in its latest version.
    await writeLake(dataDir, [...monthOfCalls('utc.example', '2026-11', 24), ...monthOfCalls('utc.example', '2026-11', 3, 'new')]);
    await writeLake(dataDir, [
      ...monthOfCalls('ny.example', '2026-10', 24),
      { ...monthOfCalls('ny.example', '2026-10', 1, 'late')[0]!, talk_s: 900 },
    ]);
    const moved = { ...monthOfCalls('akl.example', '2026-09', 1)[0]!, start: '2026-11-05T10:00:00Z', ingested_at: '2026-11-19T00:00:00Z' };
    await writeLake(dataDir, [...monthOfCalls('akl.example', '2026-11', 24), moved]);
    const tick = await transform(dataDir, config, NOV20);
    expect(tick.build.mode).toBe('incremental');
    // utc: Nov. ny (UTC-4): its October partition feeds local September and October. akl (UTC+13): its
    // November partition feeds local November and December, and the moved id brings its September and October.
    expect(tick.build.changes).toEqual({ lake: 5, duplicate_id: 2 });
    expect(tick.build.recomputed).toBeLessThan(tick.build.domainMonths);
    expect(sliced(tick.build.models).filter((m) => m.action !== 'incremental')).toEqual([]);

    // A new deck under a new plan version: open months take it, frozen months keep theirs.
    const deck2 = TEST_DECK.replace('+1,US domestic,0.011,6,6,0,0,2026-10-15', '+1,US domestic,0.020,6,6,0,0,2026-10-15');
    await writeFile(join(dataDir, 'deck.csv'), deck2);
    config = await deckConfig(dataDir, {
      deck: deck2,
      plan: { version: 'v2' },
      customers: { defaults: { plan: 'standard' }, domains: { 'ny.example': { includedMinutes: 10 } } },
    });
    const replan = await transform(dataDir, config, NOV20);
    const open = replan.ratedMonths.filter((m) => !m.frozen).length;
    // (The moved id is still in two partitions: touching that domain recomputes it whole.)
    expect(replan.build.changes).toEqual({ plan: open, duplicate_id: 2 });
    expect(replan.ratedMonths.filter((m) => m.planVersion === 'v2').length).toBe(open);

    await expectSameAsFullRebuild(dataDir, config, NOV20);

    // November closes: those months are recomputed (month_closed), and still equal a full rebuild.
    const closing = await transform(dataDir, config, DEC02);
    expect(closing.build.changes.closed).toBeGreaterThan(0);
    // The build froze them; the next one takes the frozen ratings in (the same inputs a full rebuild now sees).
    const frozen = await transform(dataDir, config, DEC02);
    expect(frozen.build.changes.plan).toBe(closing.build.changes.closed);
    await expectSameAsFullRebuild(dataDir, config, DEC02);
  }, 400_000);

  it('data tests run on the changed slice give the results of a whole run, failures included', async () => {
    const dataDir = await tempDir();
    const config = await deckConfig(dataDir);
    await writeDomains(dataDir, DOMAINS.slice(0, 1));
    await writeLake(dataDir, lakeOf('utc.example'));
    await transform(dataDir, config, NOV20);
    const settle = await transform(dataDir, config, NOV20);
    expect(settle.build.tests.slice).toBeGreaterThan(10);
    expect(settle.status).toBe('ok');

    // A tick brings a CDR that talks longer than it lasts: found on the slice, with the sample a whole run gives.
    const november = monthOfCalls('utc.example', '2026-11', 24);
    await writeLake(dataDir, [...november, { ...monthOfCalls('utc.example', '2026-11', 1, 'bad')[0]!, talk_s: 100, duration_s: 50 }]);
    const tick = await transform(dataDir, config, NOV20);
    expect(tick.build).toMatchObject({ mode: 'incremental', tests: { slice: settle.build.tests.slice } });
    const failed = tick.tests.find((t) => t.name === 'cdrs_talk_within_duration');
    expect(failed).toMatchObject({ status: 'fail', failingRows: 1, sample: [{ talk_s: 100, duration_s: 50 }] });
    expect(tick.status).toBe('failed');
    await expectSameAsFullRebuild(dataDir, config, NOV20);

    // Fixed: the test failed in the build being patched, so it runs on the whole warehouse once more.
    await writeLake(dataDir, november);
    const fixed = await transform(dataDir, config, NOV20);
    expect(fixed.build.tests.slice).toBe(tick.build.tests.slice - 1);
    expect(fixed.tests.find((t) => t.name === 'cdrs_talk_within_duration')?.status).toBe('pass');
    expect(fixed.status).toBe('ok');
    await expectSameAsFullRebuild(dataDir, config, NOV20);
  }, 200_000);

  it('a duplicate key and a lost parent made in a changed domain-month are caught on the changed domains, as a full rebuild reports them', async () => {
    const { dataDir, config, modelsDir } = await oneDomainWithModelsCopy();
    // rated_calls with two planted faults that only some calls set off: a call whose id holds
    // "twice" is rated twice, one whose id holds "lost" is rated under an id `calls` does not have.
    const sqlPath = join(modelsDir, 'rated_calls.sql');
    const [l1, l2, ...rest] = (await readFile(sqlPath, 'utf8')).split('\n');
    const body = rest.join('\n');
    await writeFile(
      sqlPath,
      [
        l1,
        l2,
        `SELECT * REPLACE (CASE WHEN r.id LIKE '%lost%' THEN r.id || '-elsewhere' ELSE r.id END AS id) FROM (\n${body}\n) AS r`,
        `UNION ALL SELECT * FROM (\n${body}\n) AS r WHERE r.id LIKE '%twice%'`,
      ].join('\n'),
    );
    await transform(dataDir, config, NOV20, false, modelsDir);
    const settle = await transform(dataDir, config, NOV20, false, modelsDir);
    expect(settle.status).toBe('ok');

    const faults = ['twice', 'lost'].map((tag) => monthOfCalls('utc.example', '2026-11', 1, tag)[0]!);
    await writeLake(dataDir, [...monthOfCalls('utc.example', '2026-11', 24), ...faults]);
    const tick = await transform(dataDir, config, NOV20, false, modelsDir);
    // Every test ran on a slice: the (domain, id) key and relationship tests on the changed domain.
    expect(tick.build).toMatchObject({ mode: 'incremental', tests: { whole: settle.build.tests.whole, slice: settle.build.tests.slice } });
    expect(tick.failedTests).toEqual(
      expect.arrayContaining(['rated_calls_unique_domain_id', 'rated_calls_domain_id_relationships_calls', 'rated_calls_one_row_per_call']),
    );
    expect(tick.tests.find((t) => t.name === 'rated_calls_unique_domain_id')?.sample).toEqual([
      { domain: 'utc.example', id: faults[0]!.id, n: '2' },
    ]);
    expect(tick.tests.find((t) => t.name === 'rated_calls_domain_id_relationships_calls')?.sample).toEqual([
      { domain: 'utc.example', id: `${faults[1]!.id}-elsewhere` },
    ]);
    // data_test_results included: the same failures, counts and samples as a whole run.
    await expectSameAsFullRebuild(dataDir, config, NOV20, modelsDir);
  }, 200_000);

  it('a changed model SQL rebuilds that model and what reads it in full, the rest stays incremental', async () => {
    const { dataDir, config, modelsDir } = await oneDomainWithModelsCopy();
    await runTransform({ dataDir, config, logger: silentLogger(), clock: NOV20, modelsDir });
    const sqlPath = join(modelsDir, 'rating_plans.sql');
    await writeFile(sqlPath, (await readFile(sqlPath, 'utf8')) + '\n-- a comment is an edit too\n');
    const s = await runTransform({ dataDir, config, logger: silentLogger(), clock: NOV20, modelsDir });
    const full = sliced(s.build.models)
      .filter((m) => m.action === 'full')
      .map((m) => m.name)
      .sort();
    expect(full).toEqual([
      'charges_by_class',
      'rated_calls',
      'rating_plans',
      'top_destinations',
      'unbillable_calls',
      'usage_by_number',
      'usage_by_user',
      'usage_daily',
      'usage_monthly',
    ]);
    expect(s.build.models.find((m) => m.name === 'rating_plans')?.reason).toBe('SQL changed');
    expect(s.build.models.find((m) => m.name === 'usage_monthly')?.reason).toMatch(/rebuilt in full/);
    expect(s.build.models.find((m) => m.name === 'calls')?.action).not.toBe('full');
  }, 200_000);
});
