import { lakeStoreFor } from '../store/index.ts';
import { readdir, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { CdrpipeConfig } from '../config/index.ts';
import { withDb, sqlString } from '../db/duckdb.ts';
import { detectHttpfs } from '../db/httpfs.ts';
import { existsSync } from 'node:fs';
import { cdrsDir, rejectsDir, statePath } from '../lake/index.ts';
import { withState } from '../state/index.ts';
import type { Clock } from '../util/clock.ts';
import { nextTick } from '../util/cron.ts';
import { redact } from '../util/errors.ts';
import { jobTimeZone } from './job-types.ts';
import { lockHolder, pidIsAlive, type LockOwner } from '../util/lock.ts';
import { schedulerLockPath } from './run-job.ts';
import { ABANDONED_RUN_ERROR, runIsAbandoned } from './run-log.ts';
import { alertJson, countUndelivered, listAlerts, windowLabel, type AlertJson } from '../alerts/index.ts';

/** Everything `cdrpipe status` shows; `--json` prints exactly this. */
export interface StatusReport {
  dataDir: string;
  generatedAt: string;
  scheduler: { running: boolean; holder?: LockOwner; staleLock?: boolean };
  jobs: JobStatus[];
  /** The last run of each command run by hand outside the scheduler (`cdrpipe ingest`). */
  commandRuns: { command: string; lastRun: NonNullable<JobStatus['lastRun']> }[];
  watermarks: { domain: string; watermark: string; lagMinutes: number }[];
  lake: LakeSize;
  /**
   * With the lake in a bucket: where, and how readers reach it. `reads` is `local copy` unless
   * DuckDB's httpfs extension loads here (checked without installing), when s3:// objects can
   * also be read directly.
   */
  bucket?: { url: string; httpfs: boolean; httpfsReason?: string };
  rejects: LakeSize;
  anomalies: {
    open: number;
    recent: {
      domain: string;
      kind: string;
      windowStart: string;
      windowEnd: string;
      expected: number | null;
      got: number | null;
      detail: string | null;
    }[];
  };
  unsent: {
    count: number;
    byStatus: Record<string, number>;
    recent: { report: string; domain: string; month: string; recipient: string; status: string; error: string | null }[];
  };
  reconciliations: { month: string; ok: number; off: number; offDomains: string[] }[];
  /** Toll-fraud and spend alerts not acknowledged: how many, the newest few, and notifications not delivered. */
  alerts: { open: number; recent: AlertJson[]; undelivered: Record<string, number> };
}

/** How many open alerts `status` lists. */
const STATUS_ALERTS = 5;

export interface JobStatus {
  job: string;
  task: string;
  cron: string;
  timeZone: string;
  enabled: boolean;
  nextRun: string | null;
  lastRun: {
    status: string;
    trigger: string;
    startedAt: string;
    endedAt: string | null;
    durationS: number | null;
    rows: number | null;
    requests: number | null;
    error: string | null;
  } | null;
}

export interface LakeSize {
  files: number;
  rows: number;
  bytes: number;
}

async function parquetFiles(dir: string): Promise<{ path: string; bytes: number }[]> {
  let names: string[];
  try {
    names = (await readdir(dir, { recursive: true })) as string[];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: { path: string; bytes: number }[] = [];
  for (const name of names) {
    if (!name.endsWith('.parquet')) continue;
    const path = join(dir, name);
    try {
      out.push({ path, bytes: (await stat(path)).size });
    } catch {
      // Renamed away between listing and stat (a writer replacing a partition file): skip it.
    }
  }
  return out;
}

/** Files, rows (from Parquet footers, no data read) and bytes under a lake directory. */
/**
 * With the lake in a bucket: files and bytes as the bucket lists them (status reads the bucket,
 * and writes nothing, not even the local copy); rows as of the local copy.
 */
async function bucketSizes(dataDir: string, local: [LakeSize, LakeSize]): Promise<[LakeSize, LakeSize]> {
  const store = lakeStoreFor(dataDir);
  if (!store) return local;
  const remote = await Promise.all([store.size('cdrs/'), store.size('rejects/')]);
  const withRows = (r: { files: number; bytes: number }, l: LakeSize): LakeSize => ({
    ...r,
    rows: r.files === l.files ? l.rows : Number.NaN,
  });
  return [withRows(remote[0], local[0]), withRows(remote[1], local[1])];
}

export async function lakeSize(dir: string): Promise<LakeSize> {
  const files = await parquetFiles(dir);
  if (files.length === 0) return { files: 0, rows: 0, bytes: 0 };
  const bytes = files.reduce((a, f) => a + f.bytes, 0);
  const list = `[${files.map((f) => sqlString(f.path)).join(', ')}]`;
  const rows = await withDb(':memory:', async (db) => {
    try {
      const r = await db.one<{ n: string | null }>(`SELECT sum(num_rows)::VARCHAR AS n FROM parquet_file_metadata(${list})`);
      return Number(r?.n ?? 0);
    } catch {
      return Number.NaN; // a file vanished mid-read (rename); rows unknown this time
    }
  });
  return { files: files.length, rows, bytes };
}

/** epoch milliseconds (as DuckDB hands them over) to ISO text. */
function isoOf(ms: unknown): string | null {
  return ms === null || ms === undefined ? null : new Date(Number(ms)).toISOString();
}

const localFormatters = new Map<string, Intl.DateTimeFormat>();

/** "2026-12-01 06:00 EST": an instant as the job's time zone shows it. */
export function localLabel(iso: string, timeZone: string): string {
  let f = localFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    localFormatters.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute} ${p.timeZoneName}`;
}

function asNum(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

/**
 * Gathers the status: state.duckdb is opened, read and closed in one short call (it works beside a
 * running scheduler, which also only holds the file for its short writes).
 */
export async function gatherStatus(args: {
  dataDir: string;
  config: CdrpipeConfig;
  clock: Clock;
  /** Whether a pid on this host is alive; injectable for tests. */
  isAlive?: (pid: number) => boolean;
}): Promise<StatusReport> {
  const now = args.clock.now();
  const holder = await lockHolder(schedulerLockPath(args.dataDir));
  const alive = holder ? pidIsAlive(holder.pid) : false;
  type Rows = Record<string, unknown>[];
  const empty = {
    last: [] as Rows,
    watermarks: [] as Rows,
    openAnomalies: { n: 0 } as { n: unknown } | undefined,
    anomalies: [] as Rows,
    unsentBy: [] as Rows,
    unsent: [] as Rows,
    recon: [] as Rows,
  };
  // A data directory nothing has run in yet: report it empty rather than create state.duckdb.
  // Read-only: status changes nothing under the data directory (works on a read-only one, on a full disk).
  const state = !existsSync(statePath(args.dataDir))
    ? empty
    : await withState(
        args.dataDir,
        async (db) => {
          const last = await db.all(
            `SELECT job, status, trigger, epoch_ms(started_at) AS "startedAt", epoch_ms(ended_at) AS "endedAt", rows_written AS "rows", requests, error, host, pid,
              date_diff('millisecond', started_at, ended_at) AS ms
       FROM runs QUALIFY row_number() OVER (PARTITION BY job ORDER BY started_at DESC) = 1`,
          );
          const watermarks = await db.all(`SELECT domain, epoch_ms(watermark) AS watermark FROM watermarks ORDER BY domain`);
          const openAnomalies = await db.one<{ n: unknown }>(`SELECT count(*) AS n FROM anomalies WHERE resolved_at IS NULL`);
          const anomalies = await db.all(
            `SELECT domain, kind, window_start AS "windowStart", window_end AS "windowEnd", expected, got, detail
       FROM anomalies WHERE resolved_at IS NULL ORDER BY detected_at DESC LIMIT 10`,
          );
          const unsentBy = await db.all(
            `SELECT status, count(*) AS n FROM sends WHERE status NOT IN ('sent', 'confirmed') GROUP BY status ORDER BY status`,
          );
          const unsent = await db.all(
            `SELECT report, domain, month, recipient, status, error FROM sends WHERE status NOT IN ('sent', 'confirmed') ORDER BY updated_at DESC LIMIT 10`,
          );
          const hasRecon = await db.one<{ n: unknown }>(
            `SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'reconciliations' AND schema_name = 'main'`,
          );
          const recon =
            Number(hasRecon?.n ?? 0) > 0
              ? await db.all(
                  `SELECT month, count(*) FILTER (WHERE status = 'ok') AS ok, count(*) FILTER (WHERE status <> 'ok') AS off,
                  list(domain ORDER BY domain) FILTER (WHERE status <> 'ok') AS "offDomains"
           FROM reconciliations GROUP BY month ORDER BY month DESC LIMIT 3`,
                )
              : [];
          return { last, watermarks, openAnomalies, anomalies, unsentBy, unsent, recon };
        },
        { readOnly: true },
      );
  const lastByJob = new Map(state.last.map((r) => [String(r.job), r]));
  const thisHost = hostname();
  const lastRunOf = (r: Record<string, unknown>): NonNullable<JobStatus['lastRun']> => {
    const abandoned = runIsAbandoned(
      { status: String(r.status), host: (r.host as string | null) ?? null, pid: asNum(r.pid) },
      thisHost,
      args.isAlive,
    );
    // A 'running' row whose process is gone is over: shown as the next run will record it.
    return abandoned
      ? { ...lastRunFields(r), status: 'interrupted', error: `${ABANDONED_RUN_ERROR} (pid ${String(r.pid ?? '?')} is gone)` }
      : lastRunFields(r);
  };
  const lastRunFields = (r: Record<string, unknown>): NonNullable<JobStatus['lastRun']> => ({
    status: String(r.status),
    trigger: String(r.trigger),
    startedAt: isoOf(r.startedAt)!,
    endedAt: isoOf(r.endedAt),
    durationS: r.ms === null || r.ms === undefined ? null : Math.round(Number(r.ms) / 100) / 10,
    rows: asNum(r.rows),
    requests: asNum(r.requests),
    error: redactOrNull(r.error),
  });
  const jobs: JobStatus[] = Object.entries(args.config.jobs).map(([name, j]) => {
    const tz = jobTimeZone(args.config, j);
    const r = lastByJob.get(name);
    return {
      job: name,
      task: j.task,
      cron: j.cron,
      timeZone: tz,
      enabled: j.enabled,
      nextRun: j.enabled ? nextTick(j.cron, tz, now).toISOString() : null,
      lastRun: r ? lastRunOf(r) : null,
    };
  });
  const commandRuns = state.last
    .filter((r) => !(String(r.job) in args.config.jobs))
    .map((r) => ({ command: String(r.job), lastRun: lastRunOf(r) }))
    .sort((a, b) => a.command.localeCompare(b.command));
  const [lake, rejects] = await Promise.all([lakeSize(cdrsDir(args.dataDir)), lakeSize(rejectsDir(args.dataDir))]).then((local) =>
    bucketSizes(args.dataDir, local),
  );
  const store = lakeStoreFor(args.dataDir);
  const httpfs = store ? await detectHttpfs() : undefined;
  const openAlerts = await listAlerts(args.dataDir, { open: true, limit: STATUS_ALERTS });
  const undeliveredAlerts = await countUndelivered(args.dataDir);
  const byStatus: Record<string, number> = {};
  for (const r of state.unsentBy) byStatus[String(r.status)] = Number(r.n);
  return {
    dataDir: args.dataDir,
    generatedAt: now.toISOString(),
    scheduler: holder ? { running: alive, holder, ...(alive ? {} : { staleLock: true }) } : { running: false },
    jobs,
    commandRuns,
    watermarks: state.watermarks.map((w) => ({
      domain: String(w.domain),
      watermark: isoOf(w.watermark)!,
      lagMinutes: Math.round((now.getTime() - Number(w.watermark)) / 60_000),
    })),
    lake,
    ...(store && httpfs
      ? { bucket: { url: store.url, httpfs: httpfs.available, ...(httpfs.reason ? { httpfsReason: httpfs.reason } : {}) } }
      : {}),
    rejects,
    anomalies: {
      open: Number(state.openAnomalies?.n ?? 0),
      recent: state.anomalies.map((a) => ({
        domain: String(a.domain),
        kind: String(a.kind),
        windowStart: String(a.windowStart),
        windowEnd: String(a.windowEnd),
        expected: asNum(a.expected),
        got: asNum(a.got),
        detail: redactOrNull(a.detail),
      })),
    },
    unsent: {
      count: Object.values(byStatus).reduce((a, b) => a + b, 0),
      byStatus,
      recent: state.unsent.map((u) => ({
        report: String(u.report),
        domain: String(u.domain),
        month: String(u.month),
        recipient: String(u.recipient),
        status: String(u.status),
        error: redactOrNull(u.error),
      })),
    },
    reconciliations: state.recon.map((r) => ({
      month: String(r.month),
      ok: Number(r.ok),
      off: Number(r.off),
      offDomains: Array.isArray(r.offDomains) ? r.offDomains.map(String) : [],
    })),
    alerts: { open: openAlerts.open, recent: openAlerts.alerts.map(alertJson), undelivered: undeliveredAlerts },
  };
}

function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

function fmtLag(min: number): string {
  if (min < 120) return `${min} min`;
  if (min < 48 * 60) return `${(min / 60).toFixed(1)} h`;
  return `${(min / 1440).toFixed(1)} d`;
}

function table(rows: string[][]): string[] {
  if (rows.length === 0) return [];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map(
    (r) =>
      '  ' +
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
  );
}

/** The human-readable status (what `cdrpipe status` prints without --json). */
export function formatStatus(s: StatusReport, opts: { maxDomains?: number } = {}): string {
  const lines: string[] = [];
  const sched = s.scheduler.holder
    ? s.scheduler.running
      ? `running (pid ${s.scheduler.holder.pid} on ${s.scheduler.holder.hostname}, since ${s.scheduler.holder.startedAt})`
      : `not running (stale lock of pid ${s.scheduler.holder.pid}; the next start takes it over)`
    : 'not running';
  lines.push(`cdrpipe status — ${s.dataDir} at ${s.generatedAt}`, `scheduler: ${sched}`, '', 'jobs:');
  lines.push(
    ...table([
      ['job', 'schedule', 'last run', 'outcome', 'duration', 'rows', 'requests', 'next run'],
      ...s.jobs.map((j) => [
        j.job,
        `${j.cron} ${j.timeZone}${j.enabled ? '' : ' (disabled)'}`,
        j.lastRun ? `${localLabel(j.lastRun.startedAt, j.timeZone)} (${j.lastRun.trigger})` : 'never',
        j.lastRun ? j.lastRun.status : '-',
        j.lastRun?.durationS !== null && j.lastRun?.durationS !== undefined ? `${j.lastRun.durationS}s` : '-',
        j.lastRun?.rows !== null && j.lastRun?.rows !== undefined ? String(j.lastRun.rows) : '-',
        j.lastRun?.requests !== null && j.lastRun?.requests !== undefined ? String(j.lastRun.requests) : '-',
        j.nextRun ? localLabel(j.nextRun, j.timeZone) : '-',
      ]),
    ]),
  );
  for (const j of s.jobs) if (j.lastRun?.error && j.lastRun.status !== 'ok') lines.push(`  ${j.job}: ${j.lastRun.error}`);
  if (s.commandRuns.length > 0) {
    lines.push('', 'run by hand (last of each):');
    lines.push(
      ...table([
        ['command', 'started', 'outcome', 'duration', 'rows', 'requests'],
        ...s.commandRuns.map((c) => [
          c.command,
          c.lastRun.startedAt,
          c.lastRun.status,
          c.lastRun.durationS !== null ? `${c.lastRun.durationS}s` : '-',
          c.lastRun.rows !== null ? String(c.lastRun.rows) : '-',
          c.lastRun.requests !== null ? String(c.lastRun.requests) : '-',
        ]),
      ]),
    );
    for (const c of s.commandRuns) if (c.lastRun.error && c.lastRun.status !== 'ok') lines.push(`  ${c.command}: ${c.lastRun.error}`);
  }
  lines.push('', `watermarks (${s.watermarks.length} domains):`);
  if (s.watermarks.length === 0) lines.push('  none yet (no ingest has completed)');
  else {
    const sorted = [...s.watermarks].sort((a, b) => b.lagMinutes - a.lagMinutes);
    const max = opts.maxDomains ?? 10;
    lines.push(
      ...table([['domain', 'watermark', 'lag'], ...sorted.slice(0, max).map((w) => [w.domain, w.watermark, fmtLag(w.lagMinutes)])]),
    );
    if (sorted.length > max) {
      const lags = sorted.map((w) => w.lagMinutes);
      lines.push(`  … ${sorted.length - max} more (least lag ${fmtLag(Math.min(...lags))}); --json lists all`);
    }
  }
  lines.push(
    '',
    `lake:      ${s.lake.files} files, ${Number.isNaN(s.lake.rows) ? '?' : s.lake.rows} rows, ${fmtBytes(s.lake.bytes)}`,
    ...(s.bucket
      ? [
          `bucket:    ${s.bucket.url}, read through the local copy; ${
            s.bucket.httpfs
              ? "DuckDB's httpfs loads here: s3:// objects can also be read directly"
              : "DuckDB's httpfs is not loadable here (not installed), so the copy is the only way"
          }`,
        ]
      : []),
    `rejects:   ${Number.isNaN(s.rejects.rows) ? '?' : s.rejects.rows} records in ${s.rejects.files} files`,
    `anomalies: ${s.anomalies.open} open`,
  );
  for (const a of s.anomalies.recent) {
    // Counts belong to completeness anomalies; a dropped recipient has none.
    const counts = a.expected === null && a.got === null ? '' : ` expected ${a.expected ?? '?'} got ${a.got ?? '?'}`;
    lines.push(`  ${a.domain} ${a.kind} [${a.windowStart}, ${a.windowEnd})${counts}${a.detail ? `: ${a.detail}` : ''}`);
  }
  const by = Object.entries(s.unsent.byStatus)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  lines.push(`unsent reports: ${s.unsent.count}${by ? ` (${by})` : ''}`);
  for (const u of s.unsent.recent)
    lines.push(`  ${u.month} ${u.report} ${u.domain} -> ${u.recipient}: ${u.status}${u.error ? ` (${u.error})` : ''}`);
  for (const r of s.reconciliations) {
    lines.push(
      `reconciliation ${r.month}: ${r.ok} ok, ${r.off} off${r.off > 0 ? ` (${r.offDomains.slice(0, 5).join(', ')}${r.offDomains.length > 5 ? ', …' : ''})` : ''}`,
    );
  }
  const undelivered = Object.entries(s.alerts.undelivered)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  lines.push(`alerts: ${s.alerts.open} open${undelivered ? `; notifications not delivered: ${undelivered}` : ''}`);
  for (const a of s.alerts.recent) {
    lines.push(
      `  ${a.id} ${a.severity} ${a.domain} ${a.rule} ${windowLabel(new Date(a.window_start), new Date(a.window_end))}: ${redact(a.message)}`,
    );
  }
  if (s.alerts.open > s.alerts.recent.length) lines.push(`  … ${s.alerts.open - s.alerts.recent.length} more: cdrpipe alerts --open`);
  return lines.join('\n') + '\n';
}

/** Stored text as status shows it: scrubbed again, since older rows may predate today's redaction. */
function redactOrNull(v: unknown): string | null {
  return typeof v === 'string' ? redact(v) : null;
}
