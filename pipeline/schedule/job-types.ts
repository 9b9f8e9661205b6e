import type { CdrpipeConfig, JobDefinition, JobTask, EnvConfig } from '../config/index.ts';
import type { Clock } from '../util/clock.ts';
import type { Logger } from '../util/logger.ts';
import type { RunTrigger } from './run-log.ts';

/** Progress a job reports while it runs (the demo draws a bar from it). */
export interface JobProgress {
  /** The job reporting (filled in by runJob). */
  job?: string;
  phase: string;
  done?: number;
  total?: number;
  rows?: number;
  requests?: number;
}

/** Everything a task function gets: injected, never read from globals. */
export interface JobContext {
  /** The job's name in jobs.config.ts, e.g. "late-sweep". */
  jobName: string;
  job: JobDefinition;
  dataDir: string;
  config: CdrpipeConfig;
  env: EnvConfig;
  clock: Clock;
  logger: Logger;
  /** Aborted on SIGTERM/SIGINT: stop taking new work, finish the current unit, flush. */
  signal: AbortSignal;
  trigger: RunTrigger;
  /** The cron tick this run stands for (cron and catch-up runs). */
  scheduledFor: Date | undefined;
  /** The job's time zone (the job's own, else the reseller's). */
  timeZone: string;
  onProgress?: (p: JobProgress) => void;
}

/** What a task returns. A thrown error means the run failed. */
export interface JobOutcome {
  /** 'mismatch' = done, but reconciliation found a domain off (exit code 3). */
  status: 'ok' | 'mismatch';
  rows?: number;
  requests?: number;
  /** JSON-serialisable details, stored with the run. */
  summary: unknown;
  /** One line for the operator. */
  message?: string;
}

export type JobTaskFn = (ctx: JobContext) => Promise<JobOutcome>;

/** One function per task kind; the scheduler and `cdrpipe run` look jobs up here. */
export type TaskRegistry = Record<JobTask, JobTaskFn>;

/** An email to people (operator, billing team), sent by the delivery stage's transport. */
export interface AlertMessage {
  to: string[];
  subject: string;
  text: string;
}

/** Sends alerts; failures to alert are logged by the caller, never fatal. */
export interface Alerter {
  send(message: AlertMessage, signal?: AbortSignal): Promise<void>;
}

/** The job's effective time zone: its own, else the reseller's. */
export function jobTimeZone(config: CdrpipeConfig, job: JobDefinition): string {
  return job.timeZone ?? config.reseller.timeZone;
}
