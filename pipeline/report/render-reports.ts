/**
 * One report of the run, from warehouse rows to what is written and sent: the customer's monthly
 * usage report and the billing team's summary, each as its rendered e-mail, CSV and file paths.
 */
import { join } from 'node:path';
import type { CdrpipeConfig, DroppedRecipient } from '../config/index.ts';
import { customerFor } from '../config/index.ts';
import { smtpConnectionsFor, type DeliveryItem } from '../deliver/index.ts';
import { encodePartitionValue } from '../lake/index.ts';
import { withState } from '../state/index.ts';
import type { CostSectionRows } from './cost-queries.ts';
import { buildCostSectionView } from './cost-section-view.ts';
import { buildBillingCsv, buildBillingSummaryView, type ReconciliationRow } from './billing-summary-view.ts';
import { buildCallsCsv } from './calls-csv.ts';
import { buildMonthlyUsageView } from './monthly-usage-view.ts';
import { GMAIL_CLIP_BYTES, type ReportRenderer, type RenderedEmail } from './render.ts';
import type { BillingSummaryRow, CustomerMonthData, DomainRow, UnbillableRow, UsageMonthlyRow } from './warehouse-queries.ts';

/** The domain column of the billing report's send-log rows (it covers every domain). */
export const ALL_DOMAINS = '*';

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

/** A rendered report with what its message carries. */
export interface Pending {
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

/** What every report of one run shares. */
export interface RenderContext {
  config: CdrpipeConfig;
  month: string;
  generatedAt: string;
  renderer: ReportRenderer;
  /** reports/YYYY-MM/ */
  outDir: string;
}

/** A customer's report up to its templates: the view they render, and the CSV. */
interface CustomerDraft {
  d: DomainRow;
  view: ReturnType<typeof buildMonthlyUsageView> & { footer: string };
  csv: string;
  recipients: string[];
  droppedRecipients: DroppedRecipient[];
}

function draftCustomer(d: DomainRow, rows: CustomerMonthData, ctx: RenderContext): CustomerDraft {
  const { config, generatedAt } = ctx;
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
  // Built while the rows streamed in (callsCsvSettings), or here from the rows.
  const csv = rows.callsCsv?.text ?? buildCallsCsv(rows.billedCalls, { currency: view.currency, decimals: c.planDef.decimals });
  return { d, view: { ...view, footer }, csv, recipients: c.recipients, droppedRecipients: c.droppedRecipients };
}

function finishCustomer(draft: CustomerDraft, email: RenderedEmail, ctx: RenderContext): Pending {
  const { d, view } = draft;
  const dir = join(ctx.outDir, encodePartitionValue(d.domain));
  const files = { html: join(dir, 'report.html'), text: join(dir, 'report.txt'), csv: join(dir, 'calls.csv') };
  const htmlBytes = Buffer.byteLength(email.html, 'utf8');
  return {
    rendered: {
      report: 'monthly-usage',
      domain: d.domain,
      files,
      subject: email.subject,
      htmlBytes,
      clipped: htmlBytes > GMAIL_CLIP_BYTES,
      recipients: draft.recipients,
      droppedRecipients: draft.droppedRecipients,
      empty: view.empty,
      calls: view.raw.calls,
      billableSeconds: view.raw.billableSeconds,
      charge: view.raw.charge,
      chargeDisplay: view.headline.charge,
      csvRows: view.raw.csvRows,
    },
    email,
    csvName: `calls-${ctx.month}-${encodePartitionValue(d.domain)}.csv`,
    csv: draft.csv,
  };
}

/**
 * The currency and decimals of a customer's CSV attachment, as its report shows them (the month's
 * own currency, else the plan's): queryCustomerMonths builds the attachment with them as the rows stream in.
 */
export function callsCsvSettings(
  config: CdrpipeConfig,
): (domain: string, current: UsageMonthlyRow | undefined) => { currency: string; decimals: number } {
  return (domain, current) => {
    const plan = customerFor(config, domain).planDef;
    return { currency: current?.currency || plan.currency, decimals: plan.decimals };
  };
}

/** One customer's monthly usage report, rendered (nothing written yet). */
export function renderCustomer(d: DomainRow, rows: CustomerMonthData, ctx: RenderContext): Pending {
  const draft = draftCustomer(d, rows, ctx);
  return finishCustomer(draft, ctx.renderer.render('monthly-usage', draft.view), ctx);
}

/**
 * Many customers' reports, each exactly as `renderCustomer` renders it, their pages inlined
 * together (ReportRenderer.renderAll). A customer whose report cannot be built gets its error in
 * its place; the others still render.
 */
export function renderCustomers(customers: readonly { d: DomainRow; rows: CustomerMonthData }[], ctx: RenderContext): (Pending | Error)[] {
  const drafts = customers.map(({ d, rows }) => {
    try {
      return draftCustomer(d, rows, ctx);
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
  });
  const ok = drafts.filter((x): x is CustomerDraft => !(x instanceof Error));
  const emails = ctx.renderer.renderAll(ok.map((x) => ({ report: 'monthly-usage' as const, view: x.view })));
  let next = 0;
  return drafts.map((x) => {
    if (x instanceof Error) return x;
    const email = emails[next++]!;
    return email instanceof Error ? email : finishCustomer(x, email, ctx);
  });
}

/** The billing team's summary over every domain, rendered (nothing written yet). */
export async function renderBilling(
  billingRows: BillingSummaryRow[],
  unbillableRows: UnbillableRow[],
  ctx: RenderContext & { dataDir: string; costRows?: CostSectionRows },
): Promise<Pending> {
  const { config, month, generatedAt, renderer, outDir } = ctx;
  // The cost side, only when some carrier has records for the month.
  const costView = ctx.costRows ? buildCostSectionView(ctx.costRows) : undefined;
  const reconciliations = await readReconciliations(ctx.dataDir, month);
  const byDomain = new Map(billingRows.map((r) => [r.domain, r]));
  const customerInfo = (domain: string) => {
    const c = customerFor(config, domain);
    const row = byDomain.get(domain);
    return { name: c.displayName ?? (row?.description || domain), currency: c.planDef.currency, decimals: c.planDef.decimals };
  };
  const billingView = buildBillingSummaryView(month, billingRows, reconciliations, {
    resellerName: config.reseller.name,
    generatedAt,
    customer: customerInfo,
    unbillable: unbillableRows,
  });
  const billingEmail = renderer.render('billing-summary', {
    ...billingView,
    ...(costView ? { cost: costView } : {}),
    footer: `${config.reseller.name} · billing summary ${month} · generated ${generatedAt}`,
  });
  const billingCsv = buildBillingCsv(month, billingRows, reconciliations, customerInfo);
  const billingBytes = Buffer.byteLength(billingEmail.html, 'utf8');
  return {
    rendered: {
      report: 'billing-summary',
      domain: ALL_DOMAINS,
      files: {
        html: join(outDir, 'billing-summary.html'),
        text: join(outDir, 'billing-summary.txt'),
        csv: join(outDir, 'billing-summary.csv'),
      },
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
  };
}

/** The message of one rendered report to one recipient. */
export function deliveryItem(p: Pending, month: string, from: { name: string; address: string }, recipient: string): DeliveryItem {
  return {
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
  };
}

/** The SMTP pool's settings from config (connections, and a rate only when one is configured). */
export function smtpSettings(config: CdrpipeConfig, smtpUrl: string | undefined): { maxConnections: number; messagesPerSecond?: number } {
  return {
    maxConnections: smtpConnectionsFor(config.delivery.smtpConnections, smtpUrl),
    messagesPerSecond: config.delivery.messagesPerSecond,
  };
}
