import { afterEach, describe, expect, it } from 'vitest';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { withState } from '../../pipeline/state/state-db.ts';
import { startScheduler, type RunningScheduler } from '../../pipeline/schedule/scheduler.ts';
import { runJob } from '../../pipeline/schedule/run-job.ts';
import { recentRuns } from '../../pipeline/schedule/run-log.ts';
import { LockHeldError } from '../../pipeline/util/lock.ts';
import type { JobContext } from '../../pipeline/schedule/job-types.ts';
import { gate, RecordingAlerter, standInRegistry, testEnv } from './helpers.ts';
import { tempDir } from '../support/temp-dir.ts';
import { TEST_JOBS, testConfig } from '../support/test-config.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const tmp = await tempDir();
  return tmp;
}

function base(dataDir: string, clock: FixedClock) {
  return { dataDir, config: testConfig(), env: testEnv(dataDir), clock, logger: silentLogger(), timers: false };
}

describe('scheduler', () => {
  it('never runs the same job twice at once: an overlapping tick is skipped', async () => {
    const dataDir = await setup();
    const clock = new FixedClock(new Date('2026-12-10T12:00:00Z'));
    const hold = gate();
    let calls = 0;
    const registry = standInRegistry({
      ingest: async () => {
        calls++;
        await hold.promise;
        return { status: 'ok', rows: 5, requests: 3, summary: {} };
      },
    });
    const s = await startScheduler({ ...base(dataDir, clock), registry });
    cleanups.push(() => s.stop());
    const first = s.trigger('ingest', 'cron', new Date('2026-12-10T12:00:00Z'));
    const second = await s.trigger('ingest', 'cron', new Date('2026-12-10T12:15:00Z'));
    expect(second).toEqual({ skipped: 'overlap' });
    // A different job waits its turn instead of running beside the ingest.
    const other = s.trigger('reconcile', 'cron');
    hold.open();
    expect(await first).toMatchObject({ status: 'ok', exitCode: 0 });
    expect(await other).toMatchObject({ status: 'ok' });
    expect(calls).toBe(1);
    const runs = await recentRuns(dataDir);
    expect(runs.map((r) => [r.job, r.status, r.rows, r.requests]).sort()).toEqual([
      ['ingest', 'ok', 5, 3],
      ['reconcile', 'ok', 1, 2],
    ]);
  });

  it('refuses a second scheduler on the same data directory', async () => {
    const dataDir = await setup();
    const clock = new FixedClock(new Date('2026-12-10T12:00:00Z'));
    const s = await startScheduler({ ...base(dataDir, clock), registry: standInRegistry() });
    cleanups.push(() => s.stop());
    const err = await startScheduler({ ...base(dataDir, clock), registry: standInRegistry() }).catch((e: unknown) => e);
    // Same process here, so the message is the "already held" one; across processes it names the pid.
    expect(err).toBeInstanceOf(LockHeldError);
  });

  it('catches up exactly one missed monthly run on start, then none on the next start', async () => {
    const dataDir = await setup();
    const clock = new FixedClock(new Date('2026-10-20T12:00:00Z'));
    const seen: JobContext[] = [];
    const registry = standInRegistry({
      'monthly-reports': async (ctx) => {
        seen.push(ctx);
        return { status: 'ok', summary: {} };
      },
    });
    // First start: registers the jobs; nothing to catch up.
    let s: RunningScheduler = await startScheduler({ ...base(dataDir, clock), registry });
    expect(s.catchUps).toEqual([]);
    await s.stop();
    // Down from Oct 20 until Dec 2: the Nov 1 and Dec 1 ticks were missed; only Dec 1 runs.
    clock.set(new Date('2026-12-02T09:00:00Z'));
    s = await startScheduler({ ...base(dataDir, clock), registry });
    await s.idle();
    const monthly = s.catchUps.filter((c) => c.job === 'monthly-reports');
    expect(monthly.map((c) => c.tick.toISOString())).toEqual(['2026-12-01T11:00:00.000Z']);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.trigger).toBe('catch-up');
    expect(seen[0]!.scheduledFor?.toISOString()).toBe('2026-12-01T11:00:00.000Z');
    await s.stop();
    const runs = await recentRuns(dataDir, 50, 'monthly-reports');
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ trigger: 'catch-up', status: 'ok' });
    // Restart later the same day: already caught up.
    clock.set(new Date('2026-12-02T10:00:00Z'));
    s = await startScheduler({ ...base(dataDir, clock), registry });
    expect(s.catchUps.filter((c) => c.job === 'monthly-reports')).toEqual([]);
    await s.stop();
  });

  it('survives a failing job: records it, alerts the operator, runs the next tick', async () => {
    const dataDir = await setup();
    const clock = new FixedClock(new Date('2026-12-10T12:00:00Z'));
    const alerter = new RecordingAlerter();
    let n = 0;
    const registry = standInRegistry({
      ingest: async () => {
        n++;
        if (n === 1) throw new Error('NS API said 500 with Bearer abc.def');
        return { status: 'ok', summary: {} };
      },
    });
    const s = await startScheduler({ ...base(dataDir, clock), registry, alerter });
    cleanups.push(() => s.stop());
    expect(await s.trigger('ingest', 'cron')).toMatchObject({ status: 'failed', exitCode: 1 });
    clock.advance(15 * 60_000);
    expect(await s.trigger('ingest', 'cron')).toMatchObject({ status: 'ok' });
    expect(alerter.sent).toHaveLength(1);
    expect(alerter.sent[0]).toMatchObject({ to: ['ops@test.example'], subject: '[cdrpipe] job ingest failed' });
    expect(alerter.sent[0]!.text).not.toContain('abc.def');
    const runs = await recentRuns(dataDir);
    expect(runs.map((r) => r.status)).toEqual(['ok', 'failed']);
    expect(runs[1]!.error).toContain('Bearer ***');
  });

  it('on stop, aborts the running job, records it interrupted and releases the lock', async () => {
    const dataDir = await setup();
    const clock = new FixedClock(new Date('2026-12-10T12:00:00Z'));
    const started = gate();
    const registry = standInRegistry({
      ingest: async (ctx) => {
        started.open();
        // Finish the current unit of work, then stop taking more.
        await new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r(), { once: true }));
        return { status: 'ok', rows: 7, summary: { stoppedEarly: true } };
      },
    });
    const s = await startScheduler({ ...base(dataDir, clock), registry });
    const run = s.trigger('ingest', 'cron');
    await started.promise;
    await s.stop('SIGTERM');
    expect(await run).toMatchObject({ status: 'interrupted' });
    const again = await startScheduler({ ...base(dataDir, clock), registry: standInRegistry() });
    await again.stop();
    const runs = await recentRuns(dataDir);
    expect(runs[0]).toMatchObject({ status: 'interrupted', rows: 7 });
  });

  it('marks a run left "running" by a dead process as interrupted on start', async () => {
    const dataDir = await setup();
    const clock = new FixedClock(new Date('2026-12-10T12:00:00Z'));
    await withState(dataDir, (db) =>
      db.run(
        `INSERT INTO runs (run_id, job, trigger, started_at, status, host, pid) VALUES ('r1', 'ingest', 'cron', now(), 'running', NULL, NULL)`,
      ),
    );
    const s = await startScheduler({ ...base(dataDir, clock), registry: standInRegistry(), catchUp: false });
    await s.stop();
    const runs = await recentRuns(dataDir);
    expect(runs[0]).toMatchObject({ runId: 'r1', status: 'interrupted' });
  });

  it('arms the cron timers: a per-second job fires with trigger cron and its tick, in the job time zone', async () => {
    const dataDir = await setup();
    const fired = gate<JobContext>();
    const config = testConfig({ jobs: { every: { task: 'ingest', cron: '* * * * * *', timeZone: 'Asia/Kolkata' } } });
    const s = await startScheduler({
      dataDir,
      config,
      env: testEnv(dataDir),
      clock: new FixedClock(new Date()),
      logger: silentLogger(),
      registry: standInRegistry({ ingest: async (ctx) => (fired.open(ctx), { status: 'ok', summary: {} }) }),
    });
    cleanups.push(() => s.stop());
    const ctx = await fired.promise;
    expect(ctx.trigger).toBe('cron');
    expect(ctx.timeZone).toBe('Asia/Kolkata');
    expect(ctx.scheduledFor).toBeInstanceOf(Date);
    expect(ctx.scheduledFor!.getMilliseconds()).toBe(0);
  });

  it('runJob returns exit code 3 for a reconciliation mismatch', async () => {
    const dataDir = await setup();
    const clock = new FixedClock(new Date('2026-12-10T12:00:00Z'));
    const registry = standInRegistry({
      reconcile: async () => ({ status: 'mismatch', summary: { off: ['a.example'] }, message: '1 domain off' }),
    });
    const r = await runJob({
      jobName: 'reconcile',
      registry,
      trigger: 'manual',
      dataDir,
      config: testConfig(),
      env: testEnv(dataDir),
      clock,
      logger: silentLogger(),
    });
    expect(r).toMatchObject({ status: 'mismatch', exitCode: 3 });
  });
});

describe('scheduler: jobs that follow another', () => {
  it('runs a job right after each run of the job it follows, not after an unrelated one', async () => {
    const dataDir = await tempDir();
    const clock = new FixedClock(new Date('2026-12-10T12:00:00Z'));
    const order: string[] = [];
    const step = (name: string) => async () => {
      order.push(name);
      return { status: 'ok' as const, summary: {} };
    };
    const registry = standInRegistry({ ingest: step('ingest'), alerts: step('alerts'), reconcile: step('reconcile') });
    const config = testConfig({ jobs: { ...TEST_JOBS, alerts: { task: 'alerts', cron: '7 * * * *', after: 'ingest' } } });
    const s = await startScheduler({ ...base(dataDir, clock), config, registry });
    cleanups.push(() => s.stop());
    await s.trigger('ingest', 'cron', new Date('2026-12-10T12:00:00Z'));
    await s.trigger('reconcile', 'cron');
    await s.idle();
    expect(order).toEqual(['ingest', 'alerts', 'reconcile']);
    const runs = await recentRuns(dataDir);
    expect(runs.find((r) => r.job === 'alerts')?.trigger).toBe('after');
  });
});
