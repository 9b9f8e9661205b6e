import { join } from 'node:path';
import type { EnvConfig, StageContext } from '../config/index.ts';
import { EXIT, exitCodeOf, redact, type ExitCode } from '../util/errors.ts';
import type { Logger } from '../util/logger.ts';
import type { Alerter, JobOutcome, JobProgress, TaskRegistry } from './job-types.ts';
import { jobTimeZone } from './job-types.ts';
import { nextTick } from '../util/cron.ts';
import { acquireLock, LockHeldError } from '../util/lock.ts';
import { markAbandonedRuns, recordRunEnd, recordRunStart, type RunStatus, type RunTrigger } from './run-log.ts';

/** The data-dir-wide job lock: one job at a time writes the lake, whichever process runs it. */
export const jobLockPath = (dataDir: string) => join(dataDir, 'locks', 'job.lock');
/** The scheduler's single-instance lock. */
export const schedulerLockPath = (dataDir: string) => join(dataDir, 'locks', 'scheduler.lock');

export interface RunJobOptions extends StageContext {
  jobName: string;
  registry: TaskRegistry;
  trigger: RunTrigger;
  scheduledFor?: Date;
  env: EnvConfig;
  /** Job-failure alerts to config.reseller.operatorEmail; omitted = no alerts. */
  alerter?: Alerter;
  onProgress?: (p: JobProgress) => void;
}

export interface JobRunResult {
  runId: string;
  jobName: string;
  status: Exclude<RunStatus, 'running'>;
  exitCode: ExitCode;
  outcome?: JobOutcome;
  error?: string;
  startedAt: Date;
  endedAt: Date;
}

/**
 * Runs one job with the job lock held, recording it in `runs` (start, then end) and alerting the
 * operator when it fails. Never throws for a job failure: the result says what happened.
 * Throws LockHeldError when another process is running a job on this data directory.
 */
export async function runJob(opts: RunJobOptions): Promise<JobRunResult> {
  const job = opts.config.jobs[opts.jobName];
  if (!job) {
    throw new Error(`no job named ${JSON.stringify(opts.jobName)} in jobs.config.ts (jobs: ${Object.keys(opts.config.jobs).join(', ')})`);
  }
  const task = opts.registry[job.task];
  const signal = opts.signal ?? new AbortController().signal;
  const logger = opts.logger.child({ job: opts.jobName, trigger: opts.trigger });
  const lock = await acquireLock(jobLockPath(opts.dataDir), {
    purpose: `job ${opts.jobName}`,
    clock: opts.clock,
    onStale: (o) => logger.warn({ stale: o }, 'took over a job lock left by a process that is gone'),
  });
  try {
    const startedAt = opts.clock.now();
    // Runs a killed process left 'running' are over: say so before this one starts.
    const abandoned = await markAbandonedRuns(opts.dataDir, startedAt);
    if (abandoned > 0) logger.warn({ runs: abandoned }, 'runs left running by a process that is gone are now marked interrupted');
    const runId = await recordRunStart(opts.dataDir, {
      job: opts.jobName,
      trigger: opts.trigger,
      scheduledFor: opts.scheduledFor,
      startedAt,
    });
    logger.info({ runId, scheduledFor: opts.scheduledFor?.toISOString() }, 'job started');
    let result: JobRunResult;
    try {
      const outcome = await task({
        jobName: opts.jobName,
        job,
        dataDir: opts.dataDir,
        config: opts.config,
        env: opts.env,
        clock: opts.clock,
        logger,
        signal,
        trigger: opts.trigger,
        scheduledFor: opts.scheduledFor,
        timeZone: jobTimeZone(opts.config, job),
        onProgress: opts.onProgress ? (p) => opts.onProgress!({ ...p, job: opts.jobName }) : undefined,
      });
      const status = signal.aborted ? 'interrupted' : outcome.status;
      result = {
        runId,
        jobName: opts.jobName,
        status,
        exitCode: status === 'mismatch' ? EXIT.mismatch : status === 'ok' ? EXIT.ok : EXIT.failure,
        outcome,
        startedAt,
        endedAt: opts.clock.now(),
      };
    } catch (err) {
      const message = redact(err instanceof Error ? err.message : String(err));
      const interrupted = signal.aborted;
      result = {
        runId,
        jobName: opts.jobName,
        status: interrupted ? 'interrupted' : 'failed',
        // Bad config (a broken rate deck, refused credentials) stays exit 2 through a job run.
        exitCode: interrupted ? EXIT.failure : exitCodeOf(err),
        error: message,
        startedAt,
        endedAt: opts.clock.now(),
      };
      const stack = err instanceof Error && err.stack ? redact(err.stack) : undefined;
      logger.error({ runId, err: message, stack }, interrupted ? 'job interrupted' : 'job failed');
    }
    await recordRunEnd(opts.dataDir, runId, {
      endedAt: result.endedAt,
      status: result.status,
      rows: result.outcome?.rows,
      requests: result.outcome?.requests,
      error: result.error ?? (result.status === 'mismatch' ? result.outcome?.message : undefined),
      summary: result.outcome?.summary,
    });
    if (result.status === 'ok' || result.status === 'mismatch') {
      logger.info(
        {
          runId,
          status: result.status,
          rows: result.outcome?.rows,
          requests: result.outcome?.requests,
          ms: result.endedAt.getTime() - startedAt.getTime(),
        },
        result.outcome?.message ?? 'job finished',
      );
    }
    if (result.status === 'failed') await alertOperator(opts, result, logger);
    return result;
  } finally {
    await lock.release();
  }
}

function nextTickText(opts: RunJobOptions): string {
  const job = opts.config.jobs[opts.jobName]!;
  try {
    return nextTick(job.cron, jobTimeZone(opts.config, job), opts.clock.now()).toISOString();
  } catch {
    return `per "${job.cron}"`;
  }
}

async function alertOperator(opts: RunJobOptions, result: JobRunResult, logger: Logger): Promise<void> {
  const to = opts.config.reseller.operatorEmail;
  if (!to || !opts.alerter) return;
  const text = [
    `The cdrpipe job "${opts.jobName}" failed.`,
    '',
    `run:        ${result.runId}`,
    `trigger:    ${opts.trigger}${opts.scheduledFor ? ` (tick ${opts.scheduledFor.toISOString()})` : ''}`,
    `started:    ${result.startedAt.toISOString()}`,
    `ended:      ${result.endedAt.toISOString()}`,
    `data dir:   ${opts.dataDir}`,
    `error:      ${result.error ?? '?'}`,
    '',
    `It runs again on its next tick, ${nextTickText(opts)}. To retry now: cdrpipe run ${opts.jobName}`,
    `Recent runs: cdrpipe status`,
  ].join('\n');
  try {
    await opts.alerter.send({ to: [to], subject: `[cdrpipe] job ${opts.jobName} failed`, text });
  } catch (err) {
    logger.error({ err: redact(err instanceof Error ? err.message : String(err)) }, 'could not send the job-failure alert');
  }
}

export { LockHeldError };
