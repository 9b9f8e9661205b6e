import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { withDb, sqlString } from '../../pipeline/db/duckdb.ts';
import { partitionDir } from '../../pipeline/lake/layout.ts';
import { withState } from '../../pipeline/state/state-db.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { formatStatus, gatherStatus } from '../../pipeline/schedule/status-report.ts';
import { startScheduler } from '../../pipeline/schedule/scheduler.ts';
import { gate, standInRegistry, testEnv } from './helpers.ts';
import { tempDir } from '../support/temp-dir.ts';
import { testConfig } from '../support/test-config.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function writePartition(dataDir: string, month: string, domain: string, rows: number): Promise<void> {
  const dir = partitionDir(dataDir, month, domain);
  await mkdir(dir, { recursive: true });
  await withDb(':memory:', (db) =>
    db.run(`COPY (SELECT 'id-' || i AS id, TIMESTAMPTZ '2026-11-01 00:00:00+00' + to_seconds(i) AS start_time FROM range(${rows}) t(i))
            TO ${sqlString(join(dir, 'data.parquet'))} (FORMAT parquet)`),
  );
}

describe('status', () => {
  it('shows last and next runs, watermarks with lag, lake size, anomalies and unsent reports, while a job runs', async () => {
    const tmp = await tempDir();
    const dataDir = tmp;
    const clock = new FixedClock(new Date('2026-12-10T12:00:00Z'));
    await writePartition(dataDir, '2026-11', 'a.example', 120);
    await writePartition(dataDir, '2026-11', 'b.example', 30);
    await withState(dataDir, async (db) => {
      await db.run(
        `INSERT INTO watermarks VALUES ('a.example', '2026-12-10 11:45:00+00', now()), ('b.example', '2026-12-09 12:00:00+00', now())`,
      );
      await db.run(
        `INSERT INTO anomalies VALUES ('x1', 'b.example', '2026-12-01', '2026-12-02', 'count-mismatch', 10, 9, 'one missing after re-fetch', now(), NULL)`,
      );
      await db.run(`INSERT INTO sends (report, domain, month, recipient, status, message_id, attempts, error, updated_at) VALUES ('monthly-usage', 'a.example', '2026-11', 'usage@a.example', 'maybe-sent', NULL, 1, NULL, now()),
                                             ('monthly-usage', 'b.example', '2026-11', 'usage@b.example', 'confirmed', 'm1', 1, NULL, now()),
                                             ('monthly-usage', 'c.example', '2026-11', 'usage@c.example', 'failed', NULL, 3, '550 no such user', now())`);
    });
    const hold = gate();
    const started = gate();
    const s = await startScheduler({
      dataDir,
      config: testConfig(),
      env: testEnv(dataDir),
      clock,
      logger: silentLogger(),
      timers: false,
      registry: standInRegistry({ ingest: async () => (started.open(), await hold.promise, { status: 'ok', rows: 9, summary: {} }) }),
    });
    cleanups.push(() => s.stop());
    cleanups.push(async () => hold.open()); // runs before stop() on failure, so stop does not wait forever
    const running = s.trigger('ingest', 'cron', new Date('2026-12-10T12:00:00Z'));
    await started.promise;

    // Status reads state.duckdb while the scheduler is up and its job is mid-run.
    const st = await gatherStatus({ dataDir, config: testConfig(), clock });
    expect(st.scheduler.running).toBe(true);
    expect(st.jobs.find((j) => j.job === 'ingest')).toMatchObject({
      lastRun: { status: 'running', trigger: 'cron' },
      nextRun: '2026-12-10T12:15:00.000Z',
    });
    expect(st.jobs.find((j) => j.job === 'monthly-reports')).toMatchObject({ lastRun: null, nextRun: '2027-01-01T11:00:00.000Z' });
    expect(st.watermarks).toEqual([
      { domain: 'a.example', watermark: expect.stringContaining('2026-12-10'), lagMinutes: 15 },
      { domain: 'b.example', watermark: expect.stringContaining('2026-12-09'), lagMinutes: 1440 },
    ]);
    expect(st.lake).toMatchObject({ files: 2, rows: 150 });
    expect(st.lake.bytes).toBeGreaterThan(0);
    expect(st.rejects).toEqual({ files: 0, rows: 0, bytes: 0 });
    expect(st.anomalies.open).toBe(1);
    expect(st.unsent).toMatchObject({ count: 2, byStatus: { failed: 1, 'maybe-sent': 1 } });

    hold.open();
    await running;
    const after = await gatherStatus({ dataDir, config: testConfig(), clock });
    expect(after.jobs.find((j) => j.job === 'ingest')!.lastRun).toMatchObject({ status: 'ok', rows: 9, durationS: 0 });
    const text = formatStatus(after);
    expect(text).toContain('scheduler: running (pid');
    expect(text).toMatch(/lake: +2 files, 150 rows/);
    expect(text).toContain('unsent reports: 2 (1 failed, 1 maybe-sent)');
    expect(text).toContain('b.example  2026-12-09');
  });
});
