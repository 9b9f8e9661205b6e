/**
 * The report stage: per customer-month figures from warehouse.duckdb -> rendered HTML, text and
 * CSV under data/reports/YYYY-MM/<domain>/, the billing team's summary beside them, then (with
 * `send`) delivery through pipeline/deliver, at most once per (report, domain, month, recipient).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvConfig, DroppedRecipient, StageContext } from '../config/index.ts';
import { customerFor } from '../config/index.ts';
import { Db } from '../db/duckdb.ts';
import { createTransportFromEnv, deliver, type DeliveryItem, type DeliverySummary, noteDroppedRecipients } from '../deliver/index.ts';
import type { MailTransport, RetryOptions } from '../deliver/index.ts';
import { encodePartitionValue, reportsDir, warehousePath } from '../lake/index.ts';
import { withState } from '../state/index.ts';
import { assertWarehouseTestsPass, DataTestFailedError } from '../transform/index.ts';
import { ConfigError, UsageError } from '../util/errors.ts';
import { mailAddressProblem } from '../util/mail-address.ts';
import { isMonth } from '../util/month.ts';
import { buildBillingCsv, buildBillingSummaryView, type ReconciliationRow } from './billing-summary-view.ts';
import { queryCostSection, type CostSectionRows } from './cost-queries.ts';
import { buildCostSectionView } from './cost-section-view.ts';
import { buildCallsCsv } from './calls-csv.ts';
import { buildMonthlyUsageView } from './monthly-usage-view.ts';
import { GMAIL_CLIP_BYTES, ReportRenderer, type RenderedEmail } from './render.ts';
import { writeFileAtomic } from '../util/atomic-file.ts';
import {
  queryBillingSummary,
  queryCustomerMonth,
  queryDomains,
  queryUnbillableCalls,
  type BillingSummaryRow,
  type CustomerMonthData,
  type DomainRow,
  type UnbillableRow,
} from './warehouse-queries.ts';

/** The domain column of the billing report's send-log rows (it covers every domain). */
export const ALL_DOMAINS = '*';

export interface RunReportsOptions extends StageContext {
  env: Pick<EnvConfig, 'smtpUrl' | 'mailFrom'>;
  /** The customer-local month, YYYY-MM. */
  month: string;
  /** Only these domains (customer reports). The billing summary, about all domains, is rendered but only sent by runs without this. */
  domains?: string[];
  /** Deliver after rendering (otherwise only render). */
  send: boolean;
  /** Send again what the send log says was sent or may have been sent. */
  force?: boolean;
  /** Render everything, send nothing (wins over `send`). */
  dryRun?: boolean;
  /** Mail transport; default from env (SMTP_URL, else data/outbox). */
  transport?: MailTransport;
  retry?: Partial<RetryOptions>;
  templatesDir?: string;
}

export interface RenderedReport {
  report: 'monthly-usage' | 'billing-summary';
  domain: string;
  /** Files written for review. */
  files: { html: string; text: string; csv: string };
  subject: string;
  htmlBytes: number;
  /** Over Gmail's ~102 KB clipping limit. */
  clipped: boolean;
  /** Each exactly one address. */
  recipients: string[];
  /** Configured entries that gave this domain no address (e.g. `usage@{domain}` for a name that is not a DNS host name). */
  droppedRecipients: DroppedRecipient[];
  empty: boolean;
  calls: string;
  billableSeconds: string;
  /** DECIMAL text (billing summary: "<amount> <currency>" per currency). */
  charge: string;
  /** The charge as shown in the report, e.g. "$12.34". */
  chargeDisplay: string;
  csvRows: number;
}

export interface ReportRunSummary {
  month: string;
  mode: 'render' | 'dry-run' | 'send';
  reports: RenderedReport[];
  /** Rendering failures per domain (the others still rendered). */
  renderFailures: { domain: string; error: string }[];
  /** Domains with no recipients configured: rendered, not sent. */
  noRecipients: string[];
  /** Configured recipient entries that gave a domain no address (each also an anomaly in state). */
  droppedRecipients: ({ domain: string } & DroppedRecipient)[];
  /** Blocking data-test failures found in the warehouse (sending is refused when any). */
  failedDataTests: string[];
  delivery: DeliverySummary | undefined;
  /** CSV rows written (billed call legs). */
  rows: number;
  /** True when anything failed (render or delivery): the CLI exits 1. */
  failed: boolean;
}

interface Pending {
  rendered: RenderedReport;
  email: RenderedEmail;
  csvName: string;
  csv: string;
}

async function readReconciliations(dataDir: string, month: string): Promise<ReconciliationRow[]> {
  return withState(dataDir, async (db) => {
    const has = await db.one<{ n: string }>(
      `SELECT CAST(count(*) AS VARCHAR) AS n FROM duckdb_tables() WHERE table_name = 'reconciliations' AND schema_name = 'main'`,
    );
    if (!has || has.n === '0') return [];
    return (await db.all(`SELECT domain, status, detail FROM reconciliations WHERE month = $month`, {
      month,
    })) as unknown as ReconciliationRow[];
  });
}

/** Blocking data-test failures recorded in the warehouse, by name (empty when all passed). */
async function failedDataTests(dataDir: string): Promise<string[]> {
  try {
    await assertWarehouseTestsPass(dataDir);
    return [];
  } catch (err) {
    if (err instanceof DataTestFailedError) return err.failures.map((f) => f.name);
    const message = err instanceof Error ? err.message : String(err);
    if (/data_test_results/.test(message)) return ['(no data_test_results table: rebuild the warehouse with `cdrpipe transform`)'];
    throw err;
  }
}

export async function runReports(opts: RunReportsOptions): Promise<ReportRunSummary> {
  const { dataDir, config, month, logger, clock } = opts;
  if (!isMonth(month)) throw new UsageError(`--month: bad month ${JSON.stringify(month)}: expected YYYY-MM, e.g. 2026-10`);
  const whPath = warehousePath(dataDir);
  if (!existsSync(whPath)) throw new Error(`no warehouse at ${whPath}: run \`cdrpipe transform\` first (after \`cdrpipe ingest\`)`);
  const mode = opts.dryRun ? 'dry-run' : opts.send ? 'send' : 'render';
  const renderer = ReportRenderer.load(opts.templatesDir);
  const generatedAt = clock
    .now()
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z');
  const failedTests = await failedDataTests(dataDir);
  if (failedTests.length > 0) logger.warn({ failedTests }, 'warehouse data tests failed: reports render for review but will not be sent');

  // Read everything first and close the warehouse: rendering and sending need no database.
  const db = await Db.open(whPath, { readOnly: true });
  let domainRows: DomainRow[];
  const data = new Map<string, CustomerMonthData>();
  let billingRows: BillingSummaryRow[];
  let unbillableRows: UnbillableRow[];
  let costRows: CostSectionRows | undefined;
  const renderFailures: { domain: string; error: string }[] = [];
  try {
    domainRows = await queryDomains(db);
    const known = new Set(domainRows.map((d) => d.domain));
    const unknown = (opts.domains ?? []).filter((d) => !known.has(d));
    if (unknown.length > 0) {
      throw new UsageError(
        `--domain: no domain ${unknown.map((d) => JSON.stringify(d)).join(', ')} in the warehouse (known: ${[...known].join(', ') || 'none'})`,
      );
    }
    const wanted = opts.domains && opts.domains.length > 0 ? new Set(opts.domains) : undefined;
    domainRows = domainRows.filter((d) => (wanted ? wanted.has(d.domain) : customerFor(config, d.domain).reports !== false));
    for (const d of domainRows) {
      opts.signal?.throwIfAborted();
      try {
        data.set(d.domain, await queryCustomerMonth(db, d.domain, month));
      } catch (err) {
        renderFailures.push({ domain: d.domain, error: err instanceof Error ? err.message : String(err) });
      }
    }
    billingRows = await queryBillingSummary(db, month);
    unbillableRows = await queryUnbillableCalls(db, month);
    costRows = await queryCostSection(db, month);
  } finally {
    db.close();
  }

  const outDir = reportsDir(dataDir, month);
  const pending: Pending[] = [];
  for (const d of domainRows) {
    const rows = data.get(d.domain);
    if (!rows) continue;
    try {
      const c = customerFor(config, d.domain);
      const name = c.displayName ?? (d.description || d.domain);
      const view = buildMonthlyUsageView(rows, {
        resellerName: config.reseller.name,
        customerName: name,
        timeZone: d.time_zone,
        currency: c.planDef.currency,
        decimals: c.planDef.decimals,
        generatedAt,
      });
      const footer = `${config.reseller.name} · usage report for ${d.domain} · calls that started in ${view.period.label}, ${d.time_zone} time · generated ${generatedAt}`;
      const email = renderer.render('monthly-usage', { ...view, footer });
      const csv = buildCallsCsv(rows.billedCalls, { currency: view.currency, decimals: c.planDef.decimals });
      const dir = join(outDir, encodePartitionValue(d.domain));
      const files = { html: join(dir, 'report.html'), text: join(dir, 'report.txt'), csv: join(dir, 'calls.csv') };
      await writeFileAtomic(files.html, email.html);
      await writeFileAtomic(files.text, email.text);
      await writeFileAtomic(files.csv, csv);
      const htmlBytes = Buffer.byteLength(email.html, 'utf8');
      if (htmlBytes > GMAIL_CLIP_BYTES) logger.warn({ domain: d.domain, htmlBytes }, 'report HTML is over 102 KB: Gmail will clip it');
      pending.push({
        rendered: {
          report: 'monthly-usage',
          domain: d.domain,
          files,
          subject: email.subject,
          htmlBytes,
          clipped: htmlBytes > GMAIL_CLIP_BYTES,
          recipients: c.recipients,
          droppedRecipients: c.droppedRecipients,
          empty: view.empty,
          calls: view.raw.calls,
          billableSeconds: view.raw.billableSeconds,
          charge: view.raw.charge,
          chargeDisplay: view.headline.charge,
          csvRows: view.raw.csvRows,
        },
        email,
        csvName: `calls-${month}-${encodePartitionValue(d.domain)}.csv`,
        csv,
      });
    } catch (err) {
      renderFailures.push({ domain: d.domain, error: err instanceof Error ? err.message : String(err) });
      logger.error({ domain: d.domain, err: err instanceof Error ? err.message : String(err) }, 'report not rendered');
    }
  }

  // The billing team's summary covers every domain, whatever --domain selected.
  const reconciliations = await readReconciliations(dataDir, month);
  const customerInfo = (domain: string) => {
    const c = customerFor(config, domain);
    const row = billingRows.find((r) => r.domain === domain);
    return { name: c.displayName ?? (row?.description || domain), currency: c.planDef.currency, decimals: c.planDef.decimals };
  };
  const billingView = buildBillingSummaryView(month, billingRows, reconciliations, {
    resellerName: config.reseller.name,
    generatedAt,
    customer: customerInfo,
    unbillable: unbillableRows,
  });
  // The cost side, only when some carrier has records for the month.
  const costView = costRows ? buildCostSectionView(costRows) : undefined;
  const billingEmail = renderer.render('billing-summary', {
    ...billingView,
    ...(costView ? { cost: costView } : {}),
    footer: `${config.reseller.name} · billing summary ${month} · generated ${generatedAt}`,
  });
  const billingCsv = buildBillingCsv(month, billingRows, reconciliations, customerInfo);
  const billingFiles = {
    html: join(outDir, 'billing-summary.html'),
    text: join(outDir, 'billing-summary.txt'),
    csv: join(outDir, 'billing-summary.csv'),
  };
  await writeFileAtomic(billingFiles.html, billingEmail.html);
  await writeFileAtomic(billingFiles.text, billingEmail.text);
  await writeFileAtomic(billingFiles.csv, billingCsv);
  const billingBytes = Buffer.byteLength(billingEmail.html, 'utf8');
  pending.push({
    rendered: {
      report: 'billing-summary',
      domain: ALL_DOMAINS,
      files: billingFiles,
      subject: billingEmail.subject,
      htmlBytes: billingBytes,
      clipped: billingBytes > GMAIL_CLIP_BYTES,
      recipients: config.reseller.billingEmails,
      droppedRecipients: [],
      empty: billingRows.length === 0,
      calls: billingRows.reduce((s, r) => s + BigInt(r.calls), 0n).toString(),
      billableSeconds: billingRows.reduce((s, r) => s + BigInt(r.billable_s), 0n).toString(),
      charge: billingView.totals.map((t) => `${t.raw} ${t.currency}`).join(', ') || '0',
      chargeDisplay: billingView.totals.map((t) => t.amount).join(' + ') || '0',
      csvRows: billingRows.length,
    },
    email: billingEmail,
    csvName: `billing-summary-${month}.csv`,
    csv: billingCsv,
  });

  const summary: ReportRunSummary = {
    month,
    mode,
    reports: pending.map((p) => p.rendered),
    renderFailures,
    noRecipients: pending.filter((p) => p.rendered.recipients.length === 0).map((p) => p.rendered.domain),
    droppedRecipients: pending.flatMap((p) => p.rendered.droppedRecipients.map((r) => ({ domain: p.rendered.domain, ...r }))),
    failedDataTests: failedTests,
    delivery: undefined,
    rows: pending.filter((p) => p.rendered.report === 'monthly-usage').reduce((s, p) => s + p.rendered.csvRows, 0),
    failed: renderFailures.length > 0,
  };
  for (const r of summary.droppedRecipients)
    logger.warn({ domain: r.domain, recipient: r.template, reason: r.reason }, 'report recipient left out');
  const customerReports = pending.filter((p) => p.rendered.report === 'monthly-usage');
  await noteDroppedRecipients(
    dataDir,
    month,
    customerReports.map((p) => ({ domain: p.rendered.domain, dropped: p.rendered.droppedRecipients })),
    clock,
  );
  if (mode !== 'send') return summary;

  const fromProblem = mailAddressProblem(opts.env.mailFrom);
  if (fromProblem) throw new ConfigError(`environment variable MAIL_FROM ${fromProblem}`, 'MAIL_FROM');
  const from = { name: '', address: opts.env.mailFrom };

  if (failedTests.length > 0) {
    throw new Error(
      `refusing to send the ${month} reports: warehouse data tests failed: ${failedTests.join(', ')}. ` +
        `The rendered files are in ${outDir} for review; fix the data, run \`cdrpipe transform\`, then send again. ` +
        `Details: cdrpipe sql "SELECT * FROM data_test_results WHERE status IN ('fail','error')"`,
    );
  }

  const items: DeliveryItem[] = [];
  // The billing summary is about every domain: a run limited by --domain renders it but leaves
  // sending it to a full run (so resending one customer never re-mails the billing team).
  const limited = (opts.domains?.length ?? 0) > 0;
  for (const p of pending) {
    if (limited && p.rendered.report === 'billing-summary') continue;
    for (const recipient of p.rendered.recipients) {
      items.push({
        report: p.rendered.report,
        domain: p.rendered.domain,
        month,
        recipient,
        mail: {
          from,
          // An object, not a string: the mailer never splits it, and delivery re-checks it.
          to: { name: '', address: recipient },
          subject: p.email.subject,
          html: p.email.html,
          text: p.email.text,
          attachments: [{ filename: p.csvName, content: p.csv, contentType: 'text/csv; charset=utf-8' }],
          headers: {
            'X-Cdrpipe-Report': `${p.rendered.report}; ${month}; ${p.rendered.domain}`.replace(/[\r\n]+/g, ' '),
            'Auto-Submitted': 'auto-generated',
          },
        },
      });
    }
  }
  const transport = opts.transport ?? createTransportFromEnv(opts.env, dataDir, clock);
  try {
    summary.delivery = await deliver(items, {
      dataDir,
      transport,
      force: opts.force,
      clock,
      logger,
      signal: opts.signal,
      retry: opts.retry,
    });
  } finally {
    if (!opts.transport) await transport.close();
  }
  summary.failed = summary.failed || summary.delivery.failed > 0;
  return summary;
}
