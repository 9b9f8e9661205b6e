import { describe, expect, it } from 'vitest';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withDb } from '../../pipeline/db/duckdb.ts';
import { warehousePath } from '../../pipeline/lake/layout.ts';
import { resolveProjectPath } from '../../pipeline/config/load-config.ts';
import { runTransform } from '../../pipeline/transform/run-transform.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import type { FixtureCdr } from '../transform/lake-fixture.ts';
import { tempDir } from '../support/temp-dir.ts';
import { CARRIER, buildScenario, writeScenario, type CarrierVariant, type Scenario } from './match-scenario.ts';

const clock = new FixedClock(new Date('2026-11-20T12:00:00Z'));

interface Outcome {
  byCall: Record<string, string>;
  missing: string[];
  counts: Record<string, number>;
}

/** Builds the warehouse over the calls and the carriers' files; the outcome per carrier and the failed data tests. */
async function reconcile(
  cdrs: readonly FixtureCdr[],
  carriers: readonly CarrierVariant[],
): Promise<{ by: Record<string, Outcome>; failed: string[] }> {
  const dataDir = await tempDir();
  const config = await writeScenario(dataDir, cdrs, carriers);
  const built = await runTransform({ dataDir, config, logger: silentLogger(), clock });
  const rows = await withDb(
    warehousePath(dataDir),
    (db) =>
      db.all<{ carrier: string; call_id: string | null; status: string; pbx_id: string | null }>(
        `SELECT carrier, call_id, status, pbx_id FROM carrier_matches`,
      ),
    { readOnly: true },
  );
  const by: Record<string, Outcome> = {};
  for (const r of rows) {
    const o = (by[r.carrier] ??= { byCall: {}, missing: [], counts: {} });
    o.counts[r.status] = (o.counts[r.status] ?? 0) + 1;
    if (r.status === 'pbx_only') o.missing.push(r.pbx_id!);
    else o.byCall[r.call_id!] = `${r.status}:${r.pbx_id ?? '-'}`;
  }
  for (const o of Object.values(by)) o.missing.sort();
  return { by, failed: built.failedTests };
}

function expectedOutcome(s: Scenario): Outcome {
  const byCall: Record<string, string> = {};
  const counts: Record<string, number> = { pbx_only: s.missing.length };
  for (const [callId, t] of s.truth) {
    byCall[callId] = `${t.status}:${t.pbxId ?? '-'}`;
    counts[t.status] = (counts[t.status] ?? 0) + 1;
  }
  return { byCall, missing: [...s.missing].sort(), counts };
}

/** Fisher-Yates with a seeded generator: the same shuffle every run. */
function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('carrier matching against known discrepancies', () => {
  it('gives every record and expected call its known status; a shuffled file under clock skew up to the tolerance gives the same', async () => {
    const s = buildScenario({ closePair: true });
    // Skewed copies: every record moved by the same clock offset, kept within ±5 s of its call's
    // answer (the scenario adds its own ±2 s jitter), and the lines shuffled. The close pair (two
    // calls to one number 4 s apart) is left out of them: under a skew nothing tells its calls apart.
    const answerOf = new Map(s.cdrs.map((c) => [c.id, Date.parse(c.start) + 7000]));
    const skewed = (seed: number, skewMs: number): CarrierVariant => ({
      name: `skew-${seed}`,
      records: shuffled(
        s.records.filter((r) => r.call_id !== 'close-x'),
        seed,
      ).map((r) => {
        const pbx = s.truth.get(r.call_id)?.pbxId;
        let at = Date.parse(r.start) + skewMs;
        if (pbx !== undefined) at = Math.min(Math.max(at, answerOf.get(pbx)! - 5000), answerOf.get(pbx)! + 5000);
        return { ...r, start: new Date(at).toISOString() };
      }),
    });
    const variants = [{ name: CARRIER, records: s.records }, skewed(3, 5000), skewed(5, -5000), skewed(9, 2500)];
    const got = await reconcile(s.cdrs, variants);
    expect(got.failed).toEqual([]);
    const want = expectedOutcome(s);
    expect(want.counts).toEqual({ matched: 34, duration_dispute: 2, cost_dispute: 2, carrier_only: 2, pbx_only: 4 });
    expect(got.by[CARRIER]).toEqual(want);
    const { 'close-x': _closeX, ...byCall } = want.byCall;
    const wantSkewed = {
      byCall,
      missing: [...want.missing, 'close-x'].sort(),
      counts: { ...want.counts, matched: 33, pbx_only: 5 },
    };
    for (const v of variants.slice(1)) expect({ carrier: v.name, ...got.by[v.name] }).toEqual({ carrier: v.name, ...wantSkewed });
  }, 180_000);

  it('matches nearest first and leaves a record beyond the time tolerance unmatched, unless the tolerance is wider (one file under two carriers)', async () => {
    const at = Date.parse('2026-10-20T10:00:00Z');
    const t = (ms: number) => new Date(at + ms).toISOString();
    const cdrs: FixtureCdr[] = [
      { domain: 'a.example', id: 'near', start: t(0), direction: 'outbound', talk_s: 60, duration_s: 67, dialed_number: '7185550100' },
      { domain: 'a.example', id: 'far', start: t(9000), direction: 'outbound', talk_s: 60, duration_s: 67, dialed_number: '7185550100' },
    ];
    const records = [
      // 3 s after 'near' answered (at 7 s) and 6 s before 'far' (at 16 s): near wins.
      { call_id: 'r-near', start: t(10_000), to: '+17185550100', billed_seconds: 60, cost: '0.006000' },
      // 6 s after 'far' answered: outside ±5 s, a phantom; with ±6 s, far's record.
      { call_id: 'r-off', start: t(22_000), to: '+17185550100', billed_seconds: 60, cost: '0.006000' },
    ];
    // The same file imported under both carriers: its records are each carrier's own.
    const file = { name: 'export.csv', sha256: 'e'.repeat(64) };
    const got = await reconcile(cdrs, [
      { name: 'tight', records, file },
      { name: 'wide', records, file, settings: { tolerances: { timeSeconds: 6 } } },
    ]);
    expect(got.failed).toEqual([]);
    expect(got.by['tight']).toEqual({
      byCall: { 'r-near': 'matched:near', 'r-off': 'carrier_only:-' },
      missing: ['far'],
      counts: { matched: 1, carrier_only: 1, pbx_only: 1 },
    });
    expect(got.by['wide']!.byCall).toEqual({ 'r-near': 'matched:near', 'r-off': 'matched:far' });
  }, 180_000);

  it('fails the one-to-one data tests when the matcher lets a record take two calls', async () => {
    const dataDir = await tempDir();
    const s = buildScenario({ n: 4, closePair: true });
    const config = await writeScenario(dataDir, s.cdrs, [{ name: CARRIER, records: s.records }]);
    const modelsDir = join(dataDir, 'models');
    await cp(resolveProjectPath('reports/models'), modelsDir, { recursive: true });
    const path = join(modelsDir, 'carrier_matches.sql');
    const sql = await readFile(path, 'utf8');
    const broken = sql.replace(
      "SELECT c.rid, c.pid FROM contested AS c SEMI JOIN rounds AS a ON a.rid = c.rid AND a.pid = c.pid AND a.state = 'accepted'",
      'SELECT rid, pid FROM candidates',
    );
    expect(broken).not.toBe(sql);
    await writeFile(path, broken);
    const built = await runTransform({
      dataDir,
      config,
      logger: silentLogger(),
      clock,
      modelsDir,
      testsDir: resolveProjectPath('reports/models/tests'),
    });
    expect(built.failedTests).toContain('carrier_matches_one_row_per_record');
  }, 180_000);
});
