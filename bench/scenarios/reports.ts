import { join } from 'node:path';
import { customerFor } from '../../pipeline/config/load-config.ts';
import type { CdrpipeConfig } from '../../pipeline/config/index.ts';
import { Db } from '../../pipeline/db/duckdb.ts';
import { createSmtpTransport } from '../../pipeline/deliver/smtp-transport.ts';
import { deliver } from '../../pipeline/deliver/deliver.ts';
import { encodePartitionValue } from '../../pipeline/lake/partition-path.ts';
import { writeFilesAtomic } from '../../pipeline/util/atomic-file.ts';
import { warehousePath } from '../../pipeline/lake/layout.ts';
import { buildCallsCsv } from '../../pipeline/report/calls-csv.ts';
import { buildMonthlyUsageView } from '../../pipeline/report/monthly-usage-view.ts';
import { holdState } from '../../pipeline/state/index.ts';
import { GMAIL_CLIP_BYTES, ReportRenderer } from '../../pipeline/report/render.ts';
import { runReports, type ReportRunSummary } from '../../pipeline/report/run-reports.ts';
import { queryCustomerMonth, queryDomains } from '../../pipeline/report/warehouse-queries.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { toMailbox } from '../../pipeline/util/mail-address.ts';
import { BENCH_MONTH, BENCH_NOW } from '../lib/extraction-setup.ts';
import { buildReportsWarehouse, REPORTS_ROWS_PER_DOMAIN } from '../lib/reports-setup.ts';
import { startSmtpSinkProcess } from '../lib/smtp-sink.ts';
import { requireFiles } from '../lib/stage.ts';
import { median, percentile } from '../lib/stats.ts';
import { checkRow, floorRow, info, limitRow } from '../lib/targets.ts';
import type { BenchRow, Scenario } from '../lib/types.ts';
import { notes, reducedNote, sizeOf, type SizeSpec } from '../lib/sizes.ts';

/** Full size: 1,000 customer domains; 200 CDRs per domain-month (a small reseller's customers). */
export const REPORTS_DOMAINS: SizeSpec = { full: 1000, reduced: 100 };
export const REPORTS_DEFAULTS = { rowsPerDomain: REPORTS_ROWS_PER_DOMAIN, sampleEvery: 10 } as const;
/** Customer reports per second, end to end, at 1,000 domains. */
export const REPORTS_TARGET_PER_SECOND = 50;

const NAME = 'reports';

/**
 * One report end to end for one customer, with the report stage's own steps (queries, view,
 * templates, CSV, files written atomically, delivery with its send log): the per-report latency
 * that runReports does not expose.
 */
async function timeOneReport(
  db: Db,
  renderer: ReportRenderer,
  send: (mail: { domain: string; to: string; subject: string; html: string; text: string; csv: string; csvName: string }) => Promise<void>,
  config: CdrpipeConfig,
  d: { domain: string; description: string | null; time_zone: string },
  outDir: string,
): Promise<number> {
  const t0 = performance.now();
  const rows = await queryCustomerMonth(db, d.domain, BENCH_MONTH);
  const c = customerFor(config, d.domain);
  const view = buildMonthlyUsageView(rows, {
    resellerName: config.reseller.name,
    customerName: c.displayName ?? (d.description || d.domain),
    timeZone: d.time_zone,
    currency: c.planDef.currency,
    decimals: c.planDef.decimals,
    generatedAt: BENCH_NOW.toISOString(),
  });
  const email = renderer.render('monthly-usage', { ...view, footer: `bench ${d.domain}` });
  const csv = buildCallsCsv(rows.billedCalls, { currency: view.currency, decimals: c.planDef.decimals });
  const dir = join(outDir, encodePartitionValue(d.domain));
  await writeFilesAtomic(dir, [
    { name: 'report.html', content: email.html },
    { name: 'report.txt', content: email.text },
    { name: 'calls.csv', content: csv },
  ]);
  await send({
    domain: d.domain,
    to: c.recipients[0] ?? `usage@${d.domain}`,
    subject: email.subject,
    html: email.html,
    text: email.text,
    csv,
    csvName: `calls-${d.domain}.csv`,
  });
  return performance.now() - t0;
}

/**
 * Reports: a month of 1,000 customer domains rendered and delivered (runReports with --send
 * --force) to an SMTP server on loopback, in a process of its own. Reports per second come from the real
 * stage; p50/p95 per report from the same steps timed one report at a time on every 10th domain.
 */
export const reports: Scenario = {
  name: NAME,
  title: '1,000 customer reports rendered and sent to a loopback SMTP server',
  async run(ctx) {
    requireFiles(['pipeline/report/run-reports.ts', 'pipeline/transform/run-transform.ts', 'pipeline/deliver/smtp-transport.ts']);
    const domains = sizeOf(ctx, REPORTS_DOMAINS);
    const { dataDir, config, clock, cdrs } = await buildReportsWarehouse({
      cacheDir: ctx.cacheDir,
      workDir: ctx.workDir,
      domains,
      log: ctx.log,
    });

    // The relay is another process, as any real one is: its parsing of each ~120 KB message must
    // not take the thread of the stage being timed.
    const smtp = await startSmtpSinkProcess({ signal: ctx.signal });
    const env = { smtpUrl: smtp.url, mailFrom: 'reports@bench.example' };
    const renderer = ReportRenderer.load();
    const transport = createSmtpTransport(smtp.url);
    try {
      const walls: number[] = [];
      const rates: number[] = [];
      const perReport: number[] = [];
      let last: ReportRunSummary | undefined;
      let okRuns = true;
      for (let run = -1; run < ctx.runs; run++) {
        const before = await smtp.received();
        const t0 = performance.now();
        const s = await runReports({ dataDir, config, env, month: BENCH_MONTH, send: true, force: true, logger: silentLogger(), clock });
        const wall = performance.now() - t0;
        const customer = s.reports.filter((r) => r.report === 'monthly-usage').length;
        const got = (await smtp.received()) - before;
        const sent = s.delivery?.sent ?? 0;
        if (customer !== domains || sent !== s.reports.length || got !== sent || s.failed) okRuns = false;

        // Per-report latency on a sample, same steps one at a time.
        const db = await Db.open(warehousePath(dataDir), { readOnly: true });
        const samples: number[] = [];
        const sampleDir = join(ctx.workDir, 'sample-reports');
        try {
          const doms = (await queryDomains(db)).filter((_, i) => i % REPORTS_DEFAULTS.sampleEvery === 0);
          for (const d of doms) {
            samples.push(
              await timeOneReport(
                db,
                renderer,
                async (m) => {
                  // As `report --domain D --send` does: the claim and the record share one open of state.duckdb.
                  const hold = holdState(dataDir);
                  const res = await deliver(
                    [
                      {
                        report: 'monthly-usage',
                        domain: m.domain,
                        month: BENCH_MONTH,
                        recipient: m.to,
                        mail: {
                          from: toMailbox(env.mailFrom, 'MAIL_FROM'),
                          to: toMailbox(m.to, 'recipient'),
                          subject: m.subject,
                          html: m.html,
                          text: m.text,
                          attachments: [{ filename: m.csvName, content: m.csv, contentType: 'text/csv; charset=utf-8' }],
                        },
                      },
                    ],
                    { dataDir, transport, force: true, clock, logger: silentLogger() },
                  ).finally(() => hold.release());
                  if (res.sent !== 1) throw new Error(`per-report delivery of ${m.domain} did not send: ${JSON.stringify(res.outcomes)}`);
                },
                config,
                d,
                sampleDir,
              ),
            );
          }
        } finally {
          db.close();
        }
        ctx.log(
          `${run < 0 ? 'warm-up' : `run ${run + 1}/${ctx.runs}`}: ${customer} customer reports + billing in ${wall.toFixed(0)} ms, ${sent} sent, ${got} received; ` +
            `per report p50 ${percentile(samples, 50).toFixed(1)} ms over ${samples.length}`,
        );
        if (run < 0) continue;
        walls.push(wall);
        rates.push(customer / (wall / 1000));
        perReport.push(...samples);
        last = s;
      }
      const largest = Math.max(...(last?.reports ?? []).map((r) => r.htmlBytes));
      const largestCustomer = Math.max(...(last?.reports ?? []).filter((r) => r.report === 'monthly-usage').map((r) => r.htmlBytes));
      const rows: BenchRow[] = [
        info(
          NAME,
          'customer domains',
          domains,
          'reports',
          notes(
            `${cdrs.toLocaleString('en-US')} CDRs in ${BENCH_MONTH}, plus the billing summary`,
            reducedNote(ctx, REPORTS_DOMAINS, 'domains'),
          ),
        ),
        floorRow(
          NAME,
          'reports per second (queries + render + files + send log + SMTP)',
          median(rates),
          'reports/s',
          REPORTS_TARGET_PER_SECOND,
          `runReports --send --force, median wall ${(median(walls) / 1000).toFixed(1)} s`,
        ),
        info(
          NAME,
          'per report p50',
          percentile(perReport, 50),
          'ms',
          `one report alone (queries + render + files + send log + SMTP, as \`report --domain D --send\`), every ${REPORTS_DEFAULTS.sampleEvery}th domain, ${perReport.length} samples`,
        ),
        info(NAME, 'per report p95', percentile(perReport, 95), 'ms'),
        limitRow(
          NAME,
          'largest customer report HTML',
          largestCustomer / 1024,
          'KB',
          GMAIL_CLIP_BYTES / 1024,
          true,
          `largest of all incl. billing summary ${(largest / 1024).toFixed(1)} KB`,
        ),
        checkRow(NAME, 'every report rendered and accepted by SMTP', okRuns, `${domains} customer + 1 billing per run`),
      ];
      return { status: 'ok', rows };
    } finally {
      await transport.close();
      await smtp.close();
    }
  },
};
