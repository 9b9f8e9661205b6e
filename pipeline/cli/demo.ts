import { withLakeAccess } from './lake-access.ts';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { formatDemoSummary, runDemo, runDemoInBucket, loadRuntime } from '../schedule/index.ts';
import type { JobProgress } from '../schedule/index.ts';
import { createLogger } from '../util/logger.ts';
import { readProcessSettings } from '../config/index.ts';
import { EXIT, UsageError } from '../util/errors.ts';

/** A progress display: a bar per ingest on a terminal, a line per phase otherwise. */
function progressDisplay(): { update: (p: JobProgress) => void; stop: () => void } {
  const tty = process.stderr.isTTY;
  let lastLine = '';
  let barKey = '';
  let bar: cliProgress.SingleBar | undefined;
  const stopBar = () => {
    bar?.stop();
    bar = undefined;
    barKey = '';
  };
  return {
    update: (p) => {
      const ingesting = p.phase.startsWith('ingest');
      // "monthly-reports: transform", but just "ingest" for the ingest job's own ingest.
      const who = p.job && !(ingesting && p.job === 'ingest') ? `${p.job}: ` : '';
      if (tty && ingesting && p.total !== undefined) {
        const key = `${p.job ?? ''}|ingest`;
        if (key !== barKey) {
          stopBar();
          barKey = key;
          bar = new cliProgress.SingleBar(
            {
              format: `• ${who}ingest [{bar}] {value}/{total} windows | {rows} CDRs | {requests} requests | {duration_formatted}`,
              hideCursor: true,
              stream: process.stderr,
            },
            cliProgress.Presets.shades_classic,
          );
          bar.start(Math.max(p.total, 1), p.done ?? 0, { rows: p.rows ?? 0, requests: p.requests ?? 0 });
        }
        bar!.setTotal(Math.max(p.total, p.done ?? 0, 1));
        bar!.update(p.done ?? 0, { rows: p.rows ?? 0, requests: p.requests ?? 0 });
        return;
      }
      // Without a terminal: one line per phase (ingest sub-phases fold into one line).
      const line = `• ${who}${ingesting ? 'ingest' : p.phase}`;
      if (line !== lastLine && !(tty && ingesting)) {
        stopBar();
        process.stderr.write(line + '\n');
        lastLine = line;
      }
    },
    stop: stopBar,
  };
}

function stamp(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** `cdrpipe demo` (= `npm start`): the whole pipeline against the embedded simulator, into ./data. */
export function registerDemo(program: Command): void {
  withLakeAccess('writes', program.command('demo'))
    .description(
      'run the whole pipeline end to end against a local NetSapiens v2 simulator: previous month and month to date, reports into the outbox',
    )
    .option('--fresh', 'start over in a new data directory (<data dir>/demo-<UTC timestamp>) instead of reusing the data directory')
    .option('--domains <n>', 'customer domains in the simulator', '36')
    .option('--seed <n>', 'simulator seed (same seed, same calls)', '2026')
    .option(
      '--s3',
      'keep the lake in a bucket: starts a local S3 server (s3rver, a development dependency) for the run; data directory <data dir>/s3-demo',
    )
    .option('--json', 'print the summary as JSON')
    .option('--config <path>', 'config file (default: jobs.config.ts, or CDRPIPE_CONFIG)')
    .action(async (opts: { fresh?: boolean; s3?: boolean; domains: string; seed: string; json?: boolean; config?: string }) => {
      const domains = Number(opts.domains);
      const seed = Number(opts.seed);
      if (!Number.isInteger(domains) || domains < 1 || domains > 2000)
        throw new UsageError(`--domains ${JSON.stringify(opts.domains)}: expected a whole number from 1 to 2000`);
      if (!Number.isInteger(seed)) throw new UsageError(`--seed ${JSON.stringify(opts.seed)}: expected a whole number`);
      const logger = createLogger({ level: readProcessSettings().logLevel ?? 'warn' });
      const rt = await loadRuntime({ configPath: opts.config, logger });
      // A bucket's local copy may not share a data directory with a local lake: the bucket demo has its own.
      const dataDir = opts.fresh
        ? resolve(join(rt.dataDir, `demo-${opts.s3 ? 's3-' : ''}${stamp(rt.clock.now())}`))
        : opts.s3
          ? resolve(join(rt.dataDir, 's3-demo'))
          : rt.dataDir;
      process.stderr.write(`cdrpipe demo: data directory ${dataDir}\n`);
      const abort = new AbortController();
      const onSignal = (sig: NodeJS.Signals) => {
        if (abort.signal.aborted) process.exit(EXIT.interrupted);
        process.stderr.write(`\n${sig}: finishing the current window, then stopping (again to exit at once)\n`);
        abort.abort(new Error(`received ${sig}`));
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const display = progressDisplay();
      try {
        const summary = await (opts.s3 ? runDemoInBucket : runDemo)({
          dataDir,
          config: rt.config,
          // The demo's customers are simulated: mail always goes to the outbox, even with SMTP_URL set.
          env: { ...rt.env, dataDir, smtpUrl: undefined },
          clock: rt.clock,
          logger,
          simulator: { domains, seed },
          onProgress: display.update,
          signal: abort.signal,
        });
        display.stop();
        process.stdout.write(
          opts.json ? JSON.stringify(summary, null, 2) + '\n' : formatDemoSummary(summary, { defaultDataDir: rt.dataDir }),
        );
        const codes = summary.runs.map((r) => r.exitCode);
        // A failed job outweighs a mismatch: the mismatch may be its consequence.
        process.exitCode =
          codes.find((c) => c !== EXIT.ok && c !== EXIT.mismatch) ?? (codes.includes(EXIT.mismatch) ? EXIT.mismatch : EXIT.ok);
      } finally {
        display.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
