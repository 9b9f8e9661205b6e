import { withLakeAccess } from './lake-access.ts';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { runIngest, formatIngestSummary, IngestIncompleteError, type IngestProgress, DEFAULT_ABORT_GRACE_MS } from '../extract/index.ts';
import { loadRuntime, markAbandonedRuns, recordRunEnd, recordRunStart } from '../schedule/index.ts';
import { createSourceFromEnv } from '../source/index.ts';
import { createLogger } from '../util/logger.ts';
import { readProcessSettings } from '../config/index.ts';
import { EXIT, redact, UsageError } from '../util/errors.ts';
import type { IngestSummary } from '../extract/index.ts';

/** The run log's job name for `cdrpipe ingest` run by hand (not a jobs.config.ts job). */
export const CLI_INGEST_JOB = 'cdrpipe ingest';

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * `--from` / `--to` values: an ISO date (midnight UTC) or an ISO datetime (UTC unless it carries
 * an offset). Anything else is a UsageError naming the flag.
 */
export function parseIngestTime(flag: string, value: string): Date {
  const v = value.trim();
  const bad = () =>
    new UsageError(
      `${flag} ${JSON.stringify(value)} is not an ISO date or datetime; use e.g. 2026-10-01 (midnight UTC) or 2026-10-01T06:00:00Z`,
    );
  let iso: string;
  if (DATE_RE.test(v)) iso = `${v}T00:00:00Z`;
  else {
    const m = DATETIME_RE.exec(v);
    if (!m) throw bad();
    const zone = m[8] ? (m[8].toUpperCase() === 'Z' ? 'Z' : m[8].length === 5 ? `${m[8].slice(0, 3)}:${m[8].slice(3)}` : m[8]) : 'Z';
    iso = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}${(m[7] ?? '').slice(0, 4)}${zone}`;
  }
  const d = new Date(iso);
  // Date accepts 2026-02-31 by rolling over; a calendar mistake is a usage error, not March 3rd.
  if (Number.isNaN(d.getTime()) || (DATE_RE.test(v) && d.toISOString().slice(0, 10) !== v)) throw bad();
  const [y, mo, day] = v.slice(0, 10).split('-').map(Number) as [number, number, number];
  if (mo < 1 || mo > 12 || day < 1 || day > new Date(Date.UTC(y, mo, 0)).getUTCDate()) throw bad();
  return d;
}

export function parseConcurrency(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 1 || n > 64) {
    throw new UsageError(`--concurrency ${JSON.stringify(value)} must be a whole number from 1 to 64`);
  }
  return n;
}

interface IngestCliOptions {
  from?: string;
  to?: string;
  domain: string[];
  concurrency?: string;
  json?: boolean;
  prune?: boolean;
  config?: string;
}

/** `cdrpipe ingest [--from T] [--to T] [--domain D]... [--concurrency N]` */
export function registerIngest(program: Command): void {
  withLakeAccess('writes', program.command('ingest'))
    .description(
      "page CDRs into the lake. Without --from/--to: incremental from each domain's watermark minus the lookback, up to now minus the settle time. " +
        'T is an ISO date (midnight UTC) or datetime; the range is half-open [from, to) and ends at now minus the settle time at the latest. ' +
        'Stored CDRs are never removed unless --prune is given; an answer that disagrees with its count is an anomaly and the exit code is 1',
    )
    .option('--from <T>', 'backfill start, e.g. 2026-10-01 or 2026-10-01T06:00:00Z')
    .option('--to <T>', 'backfill end (exclusive); default now minus the settle time')
    .option('--domain <D>', 'only this domain (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--concurrency <N>', 'requests in flight (default: ingest.concurrency in jobs.config.ts)')
    .option(
      '--prune',
      'also remove stored CDRs the API no longer lists, in windows whose answer matches its count twice; removed rows are kept under lake/removed/',
    )
    .option('--json', 'print the summary as JSON')
    .option('--config <path>', 'config file (default: jobs.config.ts, or CDRPIPE_CONFIG)')
    .addHelpText(
      'after',
      '\nExamples:\n  cdrpipe ingest\n  cdrpipe ingest --from 2026-10-01 --to 2026-11-01\n  cdrpipe ingest --from 2026-11-01 --domain acme.pbx.example --concurrency 8\n  cdrpipe ingest --prune --from 2026-10-01 --to 2026-11-01 --domain acme.pbx.example\n',
    )
    .action(async (opts: IngestCliOptions) => {
      const from = opts.from !== undefined ? parseIngestTime('--from', opts.from) : undefined;
      const to = opts.to !== undefined ? parseIngestTime('--to', opts.to) : undefined;
      if (to && !from) throw new UsageError('--to needs --from: give the start of the backfill range too');
      if (from && to && !(from < to)) throw new UsageError(`--from ${opts.from} must be before --to ${opts.to}`);
      const concurrency = opts.concurrency !== undefined ? parseConcurrency(opts.concurrency) : undefined;

      const tty = Boolean(process.stderr.isTTY) && from !== undefined;
      // On a terminal the bar is the running commentary; JSON logs would tear it, so only warnings show.
      const { logLevel } = readProcessSettings();
      // Under the progress display only warnings and errors, unless a level was asked for.
      const logger = createLogger({ level: logLevel ?? (tty ? 'warn' : 'info') });
      const rt = await loadRuntime({ configPath: opts.config, logger });
      const source = createSourceFromEnv(rt.env, {
        clock: rt.clock,
        logger,
        concurrency: concurrency ?? rt.config.ingest.concurrency,
        requestsPerSecond: rt.config.ingest.requestsPerSecond,
      });

      const controller = new AbortController();
      const onSignal = () => {
        if (controller.signal.aborted) process.exit(EXIT.interrupted);
        process.stderr.write(
          `\ncdrpipe ingest: stopping: no new windows; windows in flight get ${DEFAULT_ABORT_GRACE_MS / 1000} s to finish, then are cut off and left for the next run (Ctrl-C again to quit at once)\n`,
        );
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);

      const progress = createProgress(tty, logger);
      // Runs a killed process left 'running' are over: say so before this one starts.
      const abandoned = await markAbandonedRuns(rt.dataDir, rt.clock.now());
      if (abandoned > 0) logger.warn({ runs: abandoned }, 'runs left running by a process that is gone are now marked interrupted');
      // A run by hand is in the run log too, so `cdrpipe status` shows when the lake was last filled and how.
      const runId = await recordRunStart(rt.dataDir, {
        job: CLI_INGEST_JOB,
        trigger: 'manual',
        scheduledFor: undefined,
        startedAt: rt.clock.now(),
      });
      const endRun = (status: 'ok' | 'failed' | 'interrupted', summary: IngestSummary | undefined, error?: string) =>
        recordRunEnd(rt.dataDir, runId, {
          endedAt: rt.clock.now(),
          status,
          ...(summary ? { rows: summary.rows, requests: summary.requests, summary } : {}),
          ...(error ? { error } : {}),
        }).catch((err: unknown) =>
          logger.warn({ err: redact(err instanceof Error ? err.message : String(err)) }, 'could not record the run in state.duckdb'),
        );
      try {
        const summary = await runIngest({
          dataDir: rt.dataDir,
          config: rt.config,
          source,
          clock: rt.clock,
          logger,
          signal: controller.signal,
          ...(from ? { from } : {}),
          ...(to ? { to } : {}),
          ...(opts.domain.length > 0 ? { domains: opts.domain } : {}),
          ...(concurrency !== undefined ? { concurrency } : {}),
          ...(opts.prune ? { prune: true } : {}),
          onProgress: progress.update,
        });
        progress.stop();
        await endRun(summary.interrupted ? 'interrupted' : 'ok', summary);
        process.stdout.write((opts.json ? JSON.stringify(summary, null, 2) : formatIngestSummary(summary)) + '\n');
        process.stdout.write(`lake: ${rt.dataDir}/lake/cdrs\n`);
        // Stopped by a signal: what completed is stored, the rest is not, so the run did not do its job.
        if (summary.interrupted) process.exitCode = EXIT.failure;
      } catch (err) {
        progress.stop();
        const message = redact(err instanceof Error ? err.message : String(err));
        await endRun(
          controller.signal.aborted ? 'interrupted' : 'failed',
          err instanceof IngestIncompleteError ? err.summary : undefined,
          message,
        );
        if (err instanceof IngestIncompleteError) {
          process.stdout.write((opts.json ? JSON.stringify(err.summary, null, 2) : formatIngestSummary(err.summary)) + '\n');
        }
        throw err;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

/** A bar on a terminal; otherwise a progress log line at most every 5 s. */
function createProgress(tty: boolean, logger: ReturnType<typeof createLogger>): { update: (p: IngestProgress) => void; stop: () => void } {
  if (!tty) {
    let last = 0;
    return {
      update: (p) => {
        const t = Date.now();
        if (p.phase === 'windows' && t - last < 5_000) return;
        last = t;
        logger.info({ progress: p }, 'ingest progress');
      },
      stop: () => undefined,
    };
  }
  const started = Date.now();
  const bar = new cliProgress.SingleBar(
    {
      format: 'ingest |{bar}| {value}/{total} windows | {rows} rows | {rate} rows/s | {requests} requests | ETA {eta_formatted}',
      hideCursor: true,
      stream: process.stderr,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let running = false;
  return {
    update: (p) => {
      const payload = { rows: p.rows, requests: p.requests, rate: Math.round(p.rows / Math.max(0.001, (Date.now() - started) / 1000)) };
      if (!running) {
        bar.start(Math.max(1, p.total), p.done, payload);
        running = true;
      }
      bar.setTotal(Math.max(1, p.total));
      bar.update(p.done, payload);
    },
    stop: () => {
      if (running) bar.stop();
      running = false;
    },
  };
}
