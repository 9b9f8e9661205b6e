import type { EnvConfig } from '../config/index.ts';
import { createSourceFromEnv } from '../source/index.ts';
import type { CdrSource } from '../source/index.ts';
import type { Logger } from '../util/logger.ts';
import type { Clock } from '../util/clock.ts';
import { runTransform, runReconcile } from '../transform/index.ts';
import { formatCompact, runCompact, runIngest } from '../extract/index.ts';
import { createMailAlerter } from './mail-alerter.ts';
import type { Alerter } from './job-types.ts';
import type { StageSummary, Stages } from './tasks.ts';
import { runReports } from '../report/index.ts';
import { runCarrierInbox } from '../carrier/index.ts';
import { describeAlertRun, runAlerts } from '../alerts/index.ts';

/**
 * Binds the jobs to the real stage modules. `source` overrides the env-built source (the demo
 * passes one built from the simulator's URL).
 */
export function createRealStages(
  rt: { env: EnvConfig; logger: Logger; dataDir: string; clock: Clock },
  opts: { source?: () => CdrSource; alerter?: Alerter } = {},
): Stages {
  return {
    alerter: opts.alerter ?? createMailAlerter({ env: rt.env, dataDir: rt.dataDir, clock: rt.clock }),
    createSource: async (ctx) => ({
      source:
        opts.source?.() ??
        createSourceFromEnv(ctx.env, {
          clock: ctx.clock,
          logger: ctx.logger,
          concurrency: ctx.config.ingest.concurrency,
          requestsPerSecond: ctx.config.ingest.requestsPerSecond,
        }),
    }),
    ingest: async (ctx, source, range, onProgress) => {
      const summary = await runIngest({
        dataDir: ctx.dataDir,
        config: ctx.config,
        source,
        clock: ctx.clock,
        logger: ctx.logger,
        signal: ctx.signal,
        ...(range ? { from: range.from, to: range.to } : {}),
        onProgress: onProgress
          ? (p) => onProgress({ phase: `ingest ${p.phase}`, done: p.done, total: p.total, rows: p.rows, requests: p.requests })
          : undefined,
      });
      return { ...summary };
    },
    compact: async (ctx, minAgeDays) => {
      const months = await runCompact({ dataDir: ctx.dataDir, minAgeDays, now: ctx.clock.now(), signal: ctx.signal });
      return { rows: months.reduce((n, m) => n + m.rows, 0), months, message: formatCompact(months).trim() };
    },
    transform: async (ctx) => {
      const summary = await runTransform({
        dataDir: ctx.dataDir,
        config: ctx.config,
        logger: ctx.logger,
        clock: ctx.clock,
        signal: ctx.signal,
      });
      return { failedTests: summary.status === 'failed' ? summary.failedTests : [], summary };
    },
    carrierReconcile: async (ctx, opts) => {
      const r = await runCarrierInbox({
        dataDir: ctx.dataDir,
        config: ctx.config,
        logger: ctx.logger,
        clock: ctx.clock,
        signal: ctx.signal,
        ...(opts.carrier !== undefined ? { carrier: opts.carrier } : {}),
        previousMonth: opts.previousMonth,
      });
      return {
        imported: r.imported.length,
        failed: r.failed.length,
        reconciled: r.reconciled.flatMap((x) => x.lines.map((l) => `${l.carrier} ${x.month}`)),
        over: r.reconciled.flatMap((x) => x.over),
        summary: { imported: r.imported, failed: r.failed, reconciled: r.reconciled.map((x) => ({ month: x.month, carriers: x.lines })) },
      };
    },
    reconcile: async (ctx, source, month) => {
      const r = await runReconcile({
        dataDir: ctx.dataDir,
        config: ctx.config,
        source,
        month,
        logger: ctx.logger,
        clock: ctx.clock,
        signal: ctx.signal,
      });
      return {
        month,
        off: r.off,
        domains: r.domains,
        requests: r.requests,
        // The run log keeps the verdicts; the per-domain figures are in state (reconciliations) and the CSV.
        summary: { month: r.month, domains: r.domains, ok: r.ok, off: r.off, csvPath: r.csvPath, requests: r.requests },
      };
    },
    alerts: async (ctx) => {
      const summary = await runAlerts({
        dataDir: ctx.dataDir,
        config: ctx.config,
        env: ctx.env,
        logger: ctx.logger,
        clock: ctx.clock,
        signal: ctx.signal,
      });
      return { summary: { ...summary }, message: describeAlertRun(summary) };
    },
    reports: async (ctx, month) => {
      const summary = await runReports({
        dataDir: ctx.dataDir,
        config: ctx.config,
        env: ctx.env,
        month,
        send: true,
        force: false,
        dryRun: false,
        logger: ctx.logger,
        clock: ctx.clock,
        signal: ctx.signal,
      });
      if (summary.failed) {
        const d = summary.delivery;
        throw new Error(
          `reports for ${month} did not all go out: ${summary.renderFailures.length} render failure(s)` +
            (summary.renderFailures[0] ? ` (first: ${summary.renderFailures[0].domain}: ${summary.renderFailures[0].error})` : '') +
            (summary.failedDataTests.length ? `, data tests failed: ${summary.failedDataTests.join(', ')}` : '') +
            (d ? `, delivery ${d.sent} sent, ${d.failed} failed, ${d.maybeSent} maybe sent` : '') +
            `. The send log keeps what went out; retry with cdrpipe run ${ctx.jobName} (nothing is sent twice).`,
        );
      }
      const d = summary.delivery;
      // Compact: the run log keeps counts, not every rendered file.
      return {
        month: summary.month,
        mode: summary.mode,
        reports: summary.reports.length,
        customerReports: summary.reports.filter((r) => r.report === 'monthly-usage').length,
        noRecipients: summary.noRecipients.length,
        delivery: d ? { transport: d.transport, sent: d.sent, skipped: d.skipped, maybeSent: d.maybeSent, failed: d.failed } : undefined,
        rows: summary.rows,
      } satisfies StageSummary;
    },
  };
}
