import type { Command } from 'commander';
import { pathToFileURL } from 'node:url';
import { reportsDir } from '../lake/index.ts';
import { startPreviewServer, runReports, type ReportRunSummary, formatReportSummary } from '../report/index.ts';
import { loadRuntime } from '../schedule/index.ts';
import { EXIT, UsageError } from '../util/errors.ts';

interface ReportFlags {
  month: string;
  domain: string[];
  send?: boolean;
  force?: boolean;
  dryRun?: boolean;
  preview?: boolean;
  port: string;
  json?: boolean;
  config?: string;
}

/** `cdrpipe report --month YYYY-MM [--domain D]... [--send] [--force] [--dry-run] [--preview]` */
export function registerReport(program: Command): void {
  program
    .command('report')
    .description(
      "render per-customer usage reports for a month (each customer's own time zone decides which calls are in it); --send emails them once",
    )
    .requiredOption('--month <YYYY-MM>', 'the customer-local month to report, e.g. 2026-10')
    .option(
      '--domain <domain>',
      'only this domain (repeatable); the all-domains billing summary is sent only by runs without --domain',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option('--send', 'email the reports (SMTP_URL, or .eml files in data/outbox/ without it)')
    .option('--force', 'send again what the send log says was sent or may have been sent')
    .option('--dry-run', 'render everything, send nothing')
    .option('--preview', 'after rendering, serve the files on 127.0.0.1 for a browser (Ctrl-C to stop)')
    .option('--port <n>', 'port for --preview (0 = any free port)', '0')
    .option('--json', 'print the run summary as JSON')
    .option('--config <path>', 'config file (default: jobs.config.ts, or CDRPIPE_CONFIG)')
    .addHelpText(
      'after',
      `
Examples:
  cdrpipe report --month 2026-10                  render into data/reports/2026-10/ for review
  cdrpipe report --month 2026-10 --preview        ...and show them on http://127.0.0.1:<port>/
  cdrpipe report --month 2026-10 --send           email every customer (and the billing team) once
  cdrpipe report --month 2026-10 --domain acme.example --send --force   resend one customer`,
    )
    .action(async (flags: ReportFlags) => {
      if (flags.force && !flags.send) throw new UsageError('--force only makes sense with --send');
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UsageError(`--port: ${JSON.stringify(flags.port)} is not a port number`);
      const rt = await loadRuntime({ configPath: flags.config });
      const controller = new AbortController();
      const onSigint = () => controller.abort(new Error('interrupted (SIGINT)'));
      process.once('SIGINT', onSigint);
      let summary: ReportRunSummary;
      try {
        summary = await runReports({
          dataDir: rt.dataDir,
          config: rt.config,
          env: rt.env,
          month: flags.month,
          domains: flags.domain,
          send: Boolean(flags.send),
          force: Boolean(flags.force),
          dryRun: Boolean(flags.dryRun),
          logger: rt.logger,
          clock: rt.clock,
          signal: controller.signal,
        });
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
      process.stdout.write(flags.json ? JSON.stringify(summary, null, 2) + '\n' : formatReportSummary(summary));
      if (summary.failed) process.exitCode = EXIT.failure;
      if (flags.preview) {
        const dir = reportsDir(rt.dataDir, flags.month);
        const server = await startPreviewServer(dir, port);
        process.stdout.write(`\npreview: ${server.url}  (files: ${pathToFileURL(dir).href}/)  Ctrl-C to stop\n`);
        await new Promise<void>((done) => process.once('SIGINT', () => void server.close().then(done)));
      }
    });
}
