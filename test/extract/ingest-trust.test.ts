import { readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Db, sqlString } from '../../pipeline/db/duckdb.ts';
import { IngestIncompleteError, type IngestSummary } from '../../pipeline/extract/ingest-summary.ts';
import { lakeDir, statePath } from '../../pipeline/lake/layout.ts';
import { formatStatus, gatherStatus } from '../../pipeline/schedule/status-report.ts';
import { withState } from '../../pipeline/state/state-db.ts';
import { advanceWatermarkRow, readWatermarks } from '../../pipeline/state/watermarks.ts';
import { UsageError } from '../../pipeline/util/errors.ts';
import { lakeRows, NOW, OCT, startHarness, truthRows, type Harness } from './harness.ts';
import { testConfig } from '../support/test-config.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** The run's summary from the error a run with anomalies ends in (exit 1). */
async function failedRun(run: Promise<IngestSummary>): Promise<IngestSummary> {
  const err = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(IngestIncompleteError);
  return (err as IngestIncompleteError).summary;
}

const lakeIds = async (harness: Harness, domain?: string) =>
  (await lakeRows(harness.dir)).filter((r) => domain === undefined || r.domain === domain).map((r) => `${r.domain}/${r.id}`);
const truthIds = (harness: Harness, window: { start: Date; end: Date }, domain?: string) =>
  truthRows(harness.sim, window, domain === undefined ? undefined : [domain]).map((r) => `${r.domain}/${r.id}`);

async function openAnomalies(dir: string): Promise<{ domain: string; kind: string; window_start: string; window_end: string }[]> {
  const db = await Db.open(statePath(dir), { readOnly: true });
  try {
    return await db.all(
      `SELECT domain, kind, strftime(window_start AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.000Z') AS window_start,
              strftime(window_end AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.000Z') AS window_end
       FROM anomalies WHERE resolved_at IS NULL ORDER BY domain, kind, window_start`,
    );
  } finally {
    db.close();
  }
}

describe('a short, empty or deleted answer never shrinks the lake', () => {
  it('keeps every stored row when a window answers short of its count even after the re-fetch, fails the run and names the window', async () => {
    h = await startHarness({ now: NOW, domains: 2 });
    const [victim, other] = h.sim.domains().map((d) => String(d.domain)) as [string, string];
    await h.ingest({ from: OCT.start, to: OCT.end });
    const before = await lakeIds(h);
    expect(before).toEqual(truthIds(h, OCT));
    expect(truthIds(h, OCT, victim).length).toBeGreaterThan(75);

    // The PBX lists only 75 CDRs of the victim's month while its count still says all of them.
    h.sim.setFaults({ answers: { domain: victim, listKeep: 75 } });
    for (const prune of [false, true]) {
      const s = await failedRun(h.ingest({ from: OCT.start, to: OCT.end, prune }));
      expect(s.anomalies).toContainEqual(
        expect.objectContaining({
          domain: victim,
          kind: 'count-mismatch',
          windowStart: OCT.start.toISOString(),
          windowEnd: OCT.end.toISOString(),
          got: 75,
        }),
      );
      expect(s.anomalies.every((a) => a.domain === victim)).toBe(true);
      expect(s.rowsRemoved).toBe(0);
      expect(await lakeIds(h)).toEqual(before);
    }
    expect(existsSync(join(lakeDir(h.dir), 'removed'))).toBe(false);
    expect(await lakeIds(h, other)).toEqual(truthIds(h, OCT, other));

    // The anomaly is in state and `cdrpipe status` shows it with its window.
    expect(await openAnomalies(h.dir)).toContainEqual({
      domain: victim,
      kind: 'count-mismatch',
      window_start: OCT.start.toISOString(),
      window_end: OCT.end.toISOString(),
    });
    const status = formatStatus(await gatherStatus({ dataDir: h.dir, config: testConfig(), clock: h.clock }));
    expect(status).toContain(`${victim} count-mismatch [2026-10-01 00:00:00+00, 2026-11-01 00:00:00+00)`);
  });

  it('keeps every stored row when count and list both come back empty', async () => {
    h = await startHarness({ now: NOW, domains: 1 });
    const d = String(h.sim.domains()[0]!.domain);
    await h.ingest({ from: OCT.start, to: OCT.end });
    const before = await lakeIds(h);
    expect(before.length).toBeGreaterThan(0);
    h.sim.setFaults({ answers: { listKeep: 0, countTotal: 0 } });
    const s = await failedRun(h.ingest({ from: OCT.start, to: OCT.end }));
    expect(s.anomalies).toEqual([
      expect.objectContaining({
        domain: d,
        kind: 'not-listed',
        got: before.length,
        windowStart: OCT.start.toISOString(),
        windowEnd: OCT.end.toISOString(),
      }),
    ]);
    expect(s.rowsNotListed).toBe(before.length);
    expect(await lakeIds(h)).toEqual(before);
  });

  it('removes rows the PBX deleted only with --prune after a second count, and keeps them under lake/removed', async () => {
    h = await startHarness({ now: NOW, domains: 1 });
    const d = String(h.sim.domains()[0]!.domain);
    await h.ingest({ from: OCT.start, to: OCT.end });
    const gone = h.sim
      .groundTruth(d, OCT)
      .slice(0, 3)
      .map((r) => String(r.id));
    for (const id of gone) expect(h.sim.removeCdr(d, id)).toBe(true);
    // An update arriving meanwhile still replaces its stored version.
    const changed = String(h.sim.groundTruth(d, OCT)[5]!.id);
    expect(h.sim.updateCdr(d, changed, { 'call-total-duration-seconds': 4242 })).toBe(true);

    // Without --prune: the deleted rows stay, the run says so and fails; the update is in.
    const s1 = await failedRun(h.ingest({ from: OCT.start, to: OCT.end }));
    expect(s1.anomalies).toEqual([expect.objectContaining({ domain: d, kind: 'not-listed', got: 3 })]);
    expect(s1.anomalies[0]!.detail).toContain('--prune');
    expect((await lakeIds(h)).length).toBe(truthIds(h, OCT).length + 3);
    expect((await lakeRows(h.dir)).find((r) => r.id === changed)!.raw['call-total-duration-seconds']).toBe(4242);

    // With --prune: count, list and a second count agree, so the three rows move to lake/removed.
    const s2 = await h.ingest({ from: OCT.start, to: OCT.end, prune: true });
    expect(s2).toMatchObject({ rowsRemoved: 3, anomalies: [] });
    expect(await lakeIds(h)).toEqual(truthIds(h, OCT));
    const removedRoot = join(lakeDir(h.dir), 'removed');
    const files = await readdir(join(removedRoot, 'month=2026-10', `domain=${d}`));
    expect(files.every((f) => f.endsWith('.parquet'))).toBe(true);
    const db = await Db.open(':memory:');
    try {
      const removed = await db.all<{ id: string; domain: string; has_at: boolean }>(
        `SELECT id, domain, removed_at IS NOT NULL AS has_at FROM read_parquet(${sqlString(join(removedRoot, '**', '*.parquet'))}, hive_partitioning = true) ORDER BY id`,
      );
      expect(removed).toEqual([...gone].sort().map((id) => ({ id, domain: d, has_at: true })));
    } finally {
      db.close();
    }
    // The open not-listed anomaly is resolved by the run that matched its count.
    expect(await openAnomalies(h.dir)).toEqual([]);
  });
});

describe('ranges and watermarks end at now minus the settle time', () => {
  const settled = new Date(NOW.getTime() - 15 * 60_000);

  it('clamps --to in the future, says so, and never moves a watermark past it', async () => {
    h = await startHarness({ now: NOW, domains: 1 }, { settleMinutes: 15, initialBackfillDays: 3 });
    const d = String(h.sim.domains()[0]!.domain);
    await h.ingest();
    const s = await h.ingest({ from: new Date('2026-11-20T00:00:00Z'), to: new Date('2099-01-01T00:00:00Z') });
    expect(s.range).toEqual({ from: '2026-11-20T00:00:00.000Z', to: settled.toISOString() });
    expect(s.clampedFrom).toBe('2099-01-01T00:00:00.000Z');
    expect(s.watermarks[d]).toBe(settled.toISOString());
    expect((await withState(h.dir, readWatermarks)).get(d)).toEqual(settled);

    // The next incremental run still reads what arrived since.
    const late = { ...h.sim.groundTruth(d, OCT)[0]!, id: 'after-clamp', 'call-start-datetime': '2026-11-27T12:20:00Z' };
    h.sim.addCdrs(d, [late]);
    h.clock.advance(3_600_000);
    const next = await h.ingest();
    expect(next.watermarks[d]).toBe(new Date(settled.getTime() + 3_600_000).toISOString());
    expect((await lakeRows(h.dir)).some((r) => r.id === 'after-clamp')).toBe(true);
  });

  it('pulls a watermark left in the future back, so incremental runs fetch again', async () => {
    h = await startHarness({ now: NOW, domains: 1 }, { settleMinutes: 15, lookbackHours: 48 });
    const d = String(h.sim.domains()[0]!.domain);
    await withState(h.dir, (db) => advanceWatermarkRow(db, d, new Date('2099-01-01T00:00:00Z'), NOW));
    const s = await h.ingest();
    expect(s.watermarks[d]).toBe(settled.toISOString());
    const window = { start: new Date(settled.getTime() - 48 * 3_600_000), end: settled };
    expect(await lakeIds(h)).toEqual(truthIds(h, window));
  });

  it('refuses a --from that has not settled yet', async () => {
    h = await startHarness({ now: NOW, domains: 1 }, { settleMinutes: 15 });
    await expect(h.ingest({ from: new Date('2026-11-27T11:50:00Z'), to: new Date('2026-11-28T00:00:00Z') })).rejects.toThrow(UsageError);
  });
});

describe('an inflated or absurd count costs a few requests and is an anomaly', () => {
  it('reads a window counted 30 000 that holds a few rows with a handful of requests', async () => {
    // Budget above the count: the window is fetched whole, as the count says.
    h = await startHarness({ now: NOW, domains: 1 }, { rowBudget: 50_000 });
    const d = String(h.sim.domains()[0]!.domain);
    const window = { start: new Date('2026-10-01T00:00:00Z'), end: new Date('2026-10-02T00:00:00Z') };
    h.sim.setFaults({ answers: { countTotal: 30_000 } });
    const s = await failedRun(h.ingest({ from: window.start, to: window.end }));
    // domains + count + one page, then the re-fetch: count + one page.
    expect(s.requests).toBeLessThanOrEqual(6);
    expect(s.anomalies).toEqual([
      expect.objectContaining({ domain: d, kind: 'count-mismatch', expected: 30_000, windowStart: window.start.toISOString() }),
    ]);
    expect(await lakeIds(h)).toEqual(truthIds(h, window));
  });

  for (const total of [30_000, 1e12]) {
    it(`stops splitting when the halves of a window counted ${total} add up to more than it, and reads the list`, async () => {
      h = await startHarness({ now: NOW, domains: 1 });
      const d = String(h.sim.domains()[0]!.domain);
      h.sim.setFaults({ answers: { countTotal: total } });
      const s = await failedRun(h.ingest({ from: OCT.start, to: OCT.end }));
      // domains + the month's count + its halves' counts + the pages the list really has (a wave may ask one more).
      const pages = Math.floor(truthIds(h, OCT).length / 1000) + 1;
      expect(s.requests).toBeLessThanOrEqual(5 + pages);
      expect(s.anomalies).toEqual([
        expect.objectContaining({
          domain: d,
          kind: 'implausible-count',
          windowStart: OCT.start.toISOString(),
          windowEnd: OCT.end.toISOString(),
        }),
      ]);
      expect(await lakeIds(h)).toEqual(truthIds(h, OCT));
    });
  }
});
