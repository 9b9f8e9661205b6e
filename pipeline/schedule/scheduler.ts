import type { CdrpipeConfig, EnvConfig, StageContext } from '../config/index.ts';
import { redact } from '../util/errors.ts';
import { missedTick } from './catch-up.ts';
import { nextTick, scheduleTicks, type LiveSchedule } from '../util/cron.ts';
import { jobTimeZone, type Alerter, type TaskRegistry } from './job-types.ts';
import { acquireLock, LockHeldError, type HeldLock } from '../util/lock.ts';
import { BucketLease, lakeStoreFor } from '../store/index.ts';
import { markAbandonedRuns, registerJobs, type RunTrigger } from './run-log.ts';
import { runJob, schedulerLockPath, type JobRunResult } from './run-job.ts';

export interface SchedulerOptions extends Omit<StageContext, 'signal'> {
  env: EnvConfig;
  registry: TaskRegistry;
  alerter?: Alerter;
  /** Run the latest missed tick of each job once on start (default true). */
  catchUp?: boolean;
  /** Arm the cron timers (default true); tests drive `trigger` directly instead. */
  timers?: boolean;
  /**
   * With the lake in a bucket: wait for the bucket's scheduler lease instead of giving up when
   * another machine's scheduler holds it (a standby that takes over once that lease expires).
   */
  standby?: boolean;
  /** Aborts a standby's wait. */
  signal?: AbortSignal;
}

/** Why a trigger did not run its job. */
export type SkipReason = 'overlap' | 'stopping' | 'locked' | 'error';

export interface RunningScheduler {
  readonly lock: HeldLock;
  /** The catch-up runs queued on start: job name and the tick each stands for. */
  readonly catchUps: { job: string; tick: Date }[];
  /**
   * Queues a run of a job (jobs run one at a time, in order). A job already queued or running is
   * not queued twice: the trigger is skipped, the job's next tick picks the work up.
   */
  trigger(jobName: string, trigger: RunTrigger, scheduledFor?: Date): Promise<JobRunResult | { skipped: SkipReason }>;
  /** Resolves when nothing is queued or running. */
  idle(): Promise<void>;
  /** Next tick of each enabled job, as of the clock. */
  nextRuns(): { job: string; at: Date }[];
  /** Stops cron, aborts the running job (it finishes its current unit), waits, releases the lock. */
  stop(reason?: string): Promise<void>;
  /** Resolves once stopped. */
  readonly stopped: Promise<void>;
}

/** Enabled jobs of the config, in config order. */
function enabledJobs(config: CdrpipeConfig) {
  return Object.entries(config.jobs)
    .filter(([, j]) => j.enabled)
    .map(([name, j]) => ({ name, job: j, cron: j.cron, timeZone: jobTimeZone(config, j) }));
}

/**
 * Starts the long-running scheduler: takes the single-instance lock (LockHeldError when another
 * scheduler holds it), marks runs of dead processes interrupted, queues one catch-up run per job
 * that missed a tick while nothing was running, and arms one cron schedule per enabled job.
 */
export async function startScheduler(opts: SchedulerOptions): Promise<RunningScheduler> {
  const logger = opts.logger.child({ component: 'scheduler' });
  const jobs = enabledJobs(opts.config);
  const lock = await acquireLock(schedulerLockPath(opts.dataDir), {
    purpose: 'scheduler',
    clock: opts.clock,
    onStale: (o) => logger.warn({ stale: o }, 'took over a scheduler lock left by a process that is gone'),
  });
  // Across machines: the lake's bucket holds the lease; renewed every third of its length.
  let lease: BucketLease | undefined;
  let renewal: NodeJS.Timeout | undefined;
  const store = lakeStoreFor(opts.dataDir);
  if (store) {
    const leaseOpts = { name: 'scheduler', ttlMs: opts.config.storage.leaseSeconds * 1000, clock: opts.clock };
    try {
      lease = opts.standby
        ? await BucketLease.standBy(store, {
            ...leaseOpts,
            pollMs: leaseOpts.ttlMs / 3,
            ...(opts.signal ? { signal: opts.signal } : {}),
            onWait: (e) =>
              logger.info({ holder: e.current?.holder, until: e.current?.expiresAt }, 'standing by: another scheduler holds the lease'),
          })
        : await BucketLease.acquire(store, leaseOpts);
    } catch (err) {
      await lock.release();
      throw err;
    }
    logger.info({ lease: `${store.url}${lease.key}`, until: lease.body.expiresAt }, 'holding the scheduler lease');
  }
  const abort = new AbortController();
  const tasks: LiveSchedule[] = [];
  const pending = new Set<string>();
  let chain: Promise<unknown> = Promise.resolve();
  let stopping = false;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));

  try {
    const now = opts.clock.now();
    const abandoned = await markAbandonedRuns(opts.dataDir, now);
    if (abandoned > 0) logger.warn({ runs: abandoned }, 'runs left running by a process that is gone are now marked interrupted');
    const history = await registerJobs(opts.dataDir, jobs, now);
    const catchUps: { job: string; tick: Date }[] = [];
    if (opts.catchUp !== false) {
      for (const j of jobs) {
        const h = history.get(j.name);
        const tick = missedTick({ cron: j.cron, timeZone: j.timeZone, lastRunAt: h?.lastRunAt, knownSince: h?.knownSince, now });
        if (tick) catchUps.push({ job: j.name, tick });
      }
    }

    const trigger: RunningScheduler['trigger'] = (jobName, how, scheduledFor) => {
      if (stopping) return Promise.resolve({ skipped: 'stopping' as const });
      if (pending.has(jobName)) {
        // A follow-up of a job already queued is that same run: nothing is missed.
        if (how === 'after') return Promise.resolve({ skipped: 'overlap' as const });
        logger.warn(
          { job: jobName, trigger: how, scheduledFor: scheduledFor?.toISOString() },
          'job still queued or running: this tick is skipped',
        );
        return Promise.resolve({ skipped: 'overlap' as const });
      }
      pending.add(jobName);
      const run = chain.then(async (): Promise<JobRunResult | { skipped: SkipReason }> => {
        try {
          if (stopping) return { skipped: 'stopping' };
          const result = await runJob({
            jobName,
            registry: opts.registry,
            trigger: how,
            scheduledFor,
            dataDir: opts.dataDir,
            config: opts.config,
            env: opts.env,
            clock: opts.clock,
            logger: opts.logger,
            signal: abort.signal,
            alerter: opts.alerter,
          });
          // Jobs that follow this one (alerts after ingest) are queued now, right behind it.
          // Not after an interrupted run: the scheduler is stopping.
          if (result.status !== 'interrupted') {
            for (const f of jobs.filter((j) => j.job.after.includes(jobName))) void trigger(f.name, 'after');
          }
          return result;
        } catch (err) {
          // A failure around the job (lock, state database) must not kill the scheduler.
          const message = redact(err instanceof Error ? err.message : String(err));
          if (err instanceof LockHeldError) {
            logger.warn({ job: jobName, err: message }, 'another process is running a job on this data directory: tick skipped');
            return { skipped: 'locked' };
          }
          logger.error({ job: jobName, err: message }, 'could not run the job');
          return { skipped: 'error' };
        } finally {
          pending.delete(jobName);
        }
      });
      chain = run;
      return run;
    };

    if (opts.timers !== false) {
      for (const j of jobs) {
        tasks.push(scheduleTicks(j.cron, j.timeZone, (tick) => trigger(j.name, 'cron', tick).then(() => undefined)));
      }
    }
    for (const c of catchUps) {
      logger.info({ job: c.job, tick: c.tick.toISOString() }, 'catching up a tick missed while the scheduler was down');
      void trigger(c.job, 'catch-up', c.tick);
    }
    logger.info({ jobs: jobs.map((j) => `${j.name} "${j.cron}" ${j.timeZone}`), lock: lock.path }, 'scheduler started');
    if (lease) {
      const held = lease;
      renewal = setInterval(
        () =>
          void held.renew().then(
            (ok) => {
              if (ok) return;
              // Another scheduler took over after this one's lease expired: stop at once, so two never run.
              logger.error('lost the scheduler lease to another scheduler: stopping');
              void stop('scheduler lease lost');
            },
            (err: unknown) => logger.warn({ err: redact(String(err)) }, 'could not renew the scheduler lease; trying again'),
          ),
        Math.max(1000, (opts.config.storage.leaseSeconds * 1000) / 3),
      );
      renewal.unref();
    }

    const stop = async (reason = 'stop requested') => {
      if (stopping) return stopped;
      stopping = true;
      logger.info({ reason }, 'scheduler stopping: no new runs; the running job finishes its current unit');
      for (const t of tasks) t.stop();
      abort.abort(new Error(`scheduler stopping: ${reason}`));
      clearInterval(renewal);
      await chain.catch(() => undefined);
      await lease
        ?.release()
        .catch((err: unknown) => logger.warn({ err: redact(String(err)) }, 'could not release the scheduler lease: it expires by itself'));
      await lock.release();
      logger.info('scheduler stopped, lock released');
      resolveStopped();
      return stopped;
    };

    return {
      lock,
      catchUps,
      trigger,
      idle: async () => {
        // Runs may queue more runs while we wait; loop until the chain settles unchanged.
        for (;;) {
          const seen = chain;
          await seen.catch(() => undefined);
          if (seen === chain) return;
        }
      },
      nextRuns: () => jobs.map((j) => ({ job: j.name, at: nextTick(j.cron, j.timeZone, opts.clock.now()) })),
      stop,
      stopped,
    };
  } catch (err) {
    for (const t of tasks) t.stop();
    clearInterval(renewal);
    await lease?.release().catch(() => undefined);
    await lock.release();
    throw err;
  }
}
