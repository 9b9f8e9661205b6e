import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { pidIsAlive } from '../util/lock.ts';
import { withState } from '../state/index.ts';
import { redact, redactDeep } from '../util/errors.ts';

/** How a run came about; `after`: right after a job named in its `after` (alerts after ingest). */
export const RUN_TRIGGERS = ['cron', 'manual', 'catch-up', 'after'] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

/** Final states of a run ('running' while it goes; a crash leaves it so until the next start). */
export const RUN_STATUSES = ['running', 'ok', 'failed', 'interrupted', 'mismatch'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunStart {
  job: string;
  trigger: RunTrigger;
  scheduledFor: Date | undefined;
  startedAt: Date;
}

export interface RunEnd {
  endedAt: Date;
  status: Exclude<RunStatus, 'running'>;
  rows?: number;
  requests?: number;
  error?: string;
  summary?: unknown;
}

/** A row of `runs` as status shows it. */
export interface RunRecord {
  runId: string;
  job: string;
  trigger: string;
  scheduledFor: string | null;
  startedAt: string;
  endedAt: string | null;
  status: string;
  rows: number | null;
  requests: number | null;
  error: string | null;
}

// Each call opens state.duckdb, writes, and closes: nothing holds the file between writes.

/** Records a run as started; returns its id. */
export async function recordRunStart(dataDir: string, run: RunStart): Promise<string> {
  const runId = randomUUID();
  await withState(dataDir, (db) =>
    db.run(
      `INSERT INTO runs (run_id, job, trigger, scheduled_for, started_at, status, host, pid)
       VALUES ($1, $2, $3, $4::TIMESTAMPTZ, $5::TIMESTAMPTZ, 'running', $6, $7)`,
      [runId, run.job, run.trigger, run.scheduledFor?.toISOString() ?? null, run.startedAt.toISOString(), hostname(), process.pid],
    ),
  );
  return runId;
}

/** Records how a run ended. */
export async function recordRunEnd(dataDir: string, runId: string, end: RunEnd): Promise<void> {
  await withState(dataDir, (db) =>
    db.run(
      `UPDATE runs SET ended_at = $2::TIMESTAMPTZ, status = $3, rows_written = $4, requests = $5, error = $6, summary = $7::JSON WHERE run_id = $1`,
      [
        runId,
        end.endedAt.toISOString(),
        end.status,
        end.rows ?? null,
        end.requests ?? null,
        // Whatever the caller did, no credential is stored: the run log outlives the process.
        end.error === undefined ? null : redact(end.error),
        end.summary === undefined ? null : JSON.stringify(redactDeep(end.summary)),
      ],
    ),
  );
}

/** What a run left 'running' by a process that is gone is recorded (and shown) as. */
export const ABANDONED_RUN_ERROR = 'the process ended before the run finished';

/**
 * Whether a 'running' row belongs to a process that is gone: its pid is dead on this host, or it
 * has no pid at all. A row of another host is taken at its word (its pid means nothing here).
 */
export function runIsAbandoned(
  row: { status: string; host: string | null; pid: number | null },
  thisHost: string,
  isAlive: (pid: number) => boolean = pidIsAlive,
): boolean {
  if (row.status !== 'running') return false;
  if (row.host !== null && row.host !== thisHost) return false;
  return row.pid === null || !isAlive(Number(row.pid));
}

/**
 * Runs left 'running' by a process of this host that is gone (killed, crashed) become 'interrupted'.
 * Returns how many.
 */
export async function markAbandonedRuns(dataDir: string, at: Date, isAlive: (pid: number) => boolean = pidIsAlive): Promise<number> {
  return withState(dataDir, async (db) => {
    const rows = await db.all<{ runId: string; status: string; host: string | null; pid: number | null }>(
      `SELECT run_id AS "runId", status, host, pid FROM runs WHERE status = 'running' AND (host = $1 OR host IS NULL)`,
      [hostname()],
    );
    const dead = rows.filter((r) => runIsAbandoned(r, hostname(), isAlive));
    for (const r of dead) {
      await db.run(`UPDATE runs SET status = 'interrupted', ended_at = $2::TIMESTAMPTZ, error = coalesce(error, $3) WHERE run_id = $1`, [
        r.runId,
        at.toISOString(),
        ABANDONED_RUN_ERROR,
      ]);
    }
    return dead.length;
  });
}

/** Per job: when its last run started, and when the scheduler first registered it. */
export interface JobHistory {
  lastRunAt: Date | undefined;
  knownSince: Date | undefined;
}

/** Reads each job's history and registers the jobs (first start remembers when). */
export async function registerJobs(
  dataDir: string,
  jobs: { name: string; cron: string; timeZone: string }[],
  now: Date,
): Promise<Map<string, JobHistory>> {
  return withState(dataDir, async (db) => {
    const out = new Map<string, JobHistory>();
    for (const job of jobs) {
      const last = await db.one<{ t: string | null }>(`SELECT max(started_at) AS t FROM runs WHERE job = $1`, [job.name]);
      const known = await db.one<{ t: string }>(`SELECT first_seen_at AS t FROM schedule_jobs WHERE job = $1`, [job.name]);
      out.set(job.name, { lastRunAt: last?.t ? new Date(last.t) : undefined, knownSince: known?.t ? new Date(known.t) : undefined });
      await db.run(
        `INSERT INTO schedule_jobs (job, cron, time_zone, first_seen_at, last_seen_at) VALUES ($1, $2, $3, $4::TIMESTAMPTZ, $4::TIMESTAMPTZ)
         ON CONFLICT (job) DO UPDATE SET cron = excluded.cron, time_zone = excluded.time_zone, last_seen_at = excluded.last_seen_at`,
        [job.name, job.cron, job.timeZone, now.toISOString()],
      );
    }
    return out;
  });
}

const RUN_COLUMNS = `run_id AS "runId", job, trigger, scheduled_for AS "scheduledFor", started_at AS "startedAt", ended_at AS "endedAt",
  status, rows_written AS "rows", requests, error`;

function toRecord(r: Record<string, unknown>): RunRecord {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    runId: String(r.runId),
    job: String(r.job),
    trigger: String(r.trigger),
    scheduledFor: (r.scheduledFor as string | null) ?? null,
    startedAt: String(r.startedAt),
    endedAt: (r.endedAt as string | null) ?? null,
    status: String(r.status),
    rows: num(r.rows),
    requests: num(r.requests),
    // Rows written before redaction covered every encoding are scrubbed on the way out.
    error: typeof r.error === 'string' ? redact(r.error) : null,
  };
}

/** The latest run of each job. */
export async function lastRunPerJob(dataDir: string): Promise<RunRecord[]> {
  return withState(dataDir, async (db) => {
    const rows = await db.all(
      `SELECT ${RUN_COLUMNS} FROM runs QUALIFY row_number() OVER (PARTITION BY job ORDER BY started_at DESC) = 1 ORDER BY job`,
    );
    return rows.map(toRecord);
  });
}

/** Recent runs, newest first. */
export async function recentRuns(dataDir: string, limit = 20, job?: string): Promise<RunRecord[]> {
  return withState(dataDir, async (db) => {
    const rows = job
      ? await db.all(`SELECT ${RUN_COLUMNS} FROM runs WHERE job = $1 ORDER BY started_at DESC LIMIT ${Math.max(1, Math.floor(limit))}`, [
          job,
        ])
      : await db.all(`SELECT ${RUN_COLUMNS} FROM runs ORDER BY started_at DESC LIMIT ${Math.max(1, Math.floor(limit))}`);
    return rows.map(toRecord);
  });
}
