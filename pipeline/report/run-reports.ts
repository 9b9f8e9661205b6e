/**
 * The report stage: per customer-month figures from warehouse.duckdb -> rendered HTML, text and
 * CSV under data/reports/YYYY-MM/<domain>/, the billing team's summary beside them, then (with
 * `send`) delivery through pipeline/deliver, at most once per (report, domain, month, recipient).
 * Customers go in chunks: one statement per query reads a whole chunk's figures, its reports are
 * rendered, written and (with `send`) delivered in groups (a group's messages are on the wire
 * while the next group is rendered), and the next chunk follows (its figures read meanwhile);
 * memory holds at most two chunks, never the month. The run's uses of state.duckdb share one
 * open while they come in quick succession (holdState).
 */
import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import pLimit from 'p-limit';
import type { DroppedRecipient, EnvConfig, StageContext } from '../config/index.ts';
import { customerFor, duckdbSettings, resourceBudget } from '../config/index.ts';
import { Db } from '../db/duckdb.ts';
import { createTransportFromEnv, deliver, type DeliveryItem, type DeliverySummary, noteDroppedRecipients } from '../deliver/index.ts';
import type { MailTransport, RetryOptions } from '../deliver/index.ts';
import { reportsDir, warehousePath } from '../lake/index.ts';
import { holdState } from '../state/index.ts';
import { assertWarehouseTestsPass, DataTestFailedError } from '../transform/index.ts';
import { writeFileAtomic, writeFilesAtomic } from '../util/atomic-file.ts';
import { ConfigError, UsageError } from '../util/errors.ts';
import { timed, timedSync, type PhaseTimes } from '../util/phase-times.ts';
import { mailAddressProblem } from '../util/mail-address.ts';
import { isMonth } from '../util/month.ts';
import { HeapGarbage } from '../util/heap-garbage.ts';
import { ReportRenderer, type RenderedEmail } from './render.ts';
import { queryCostSection, type CostSectionRows } from './cost-queries.ts';
import {
  callsCsvSettings,
  deliveryItem,
  renderBilling,
  renderCustomers,
  smtpSettings,
  type Pending,
  type RenderedReport,
} from './render-reports.ts';
import {
  queryBillingSummary,
  queryCustomerMonths,
  queryDomains,
  queryUnbillableCalls,
  type BillingSummaryRow,
  type CustomerMonthData,
  type DomainRow,
  type UnbillableRow,
} from './warehouse-queries.ts';

export { ALL_DOMAINS, type RenderedReport } from './render-reports.ts';

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
  /** Wall and CPU time per phase of the run are added here (where a run's time goes: bench/report-breakdown.ts). */
  times?: PhaseTimes;
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

/** Blocking data-test failures recorded in the warehouse, by name (empty when all passed). */
async function failedDataTests(dataDir: string, warehouse: Db): Promise<string[]> {
  try {
    await assertWarehouseTestsPass(dataDir, warehouse);
    return [];
  } catch (err) {
    if (err instanceof DataTestFailedError) return err.failures.map((f) => f.name);
    const message = err instanceof Error ? err.message : String(err);
    if (/data_test_results/.test(message)) return ['(no data_test_results table: rebuild the warehouse with `cdrpipe transform`)'];
    throw err;
  }
}

/** Domains whose figures are read, rendered and sent together (one statement per query for all of them). */
export const REPORT_CHUNK_DOMAINS = 250;
/** ...and at most about this many billed calls per chunk, so a chunk's CSVs stay small in memory. */
export const REPORT_CHUNK_CALLS = 250_000;
/**
 * Customers rendered, written and handed to delivery together, one group after another: a group
 * is claimed in the send log in one write and recorded in one more (on the run's one open of
 * state.duckdb), and while its messages are on the wire the next group is rendered and written.
 * A crash leaves the messages of at most two groups pending (the one on the wire and the one
 * just claimed), reported as maybe sent, never sent twice.
 */
export const REPORT_SEND_GROUP = 25;
/** Report files written at once (each write is flushed to disk before its rename). */
const FILE_WRITES_IN_FLIGHT = 8;

/** Consecutive runs of domains, each within REPORT_CHUNK_DOMAINS domains and (past its first domain) REPORT_CHUNK_CALLS calls. */
export function chunkDomains<T extends { domain: string }>(domains: readonly T[], callsOf: (domain: string) => number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let calls = 0;
  for (const d of domains) {
    const n = callsOf(d.domain);
    if (current.length > 0 && (current.length >= REPORT_CHUNK_DOMAINS || calls + n > REPORT_CHUNK_CALLS)) {
      chunks.push(current);
      current = [];
      calls = 0;
    }
    current.push(d);
    calls += n;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function addDelivery(total: DeliverySummary | undefined, part: DeliverySummary): DeliverySummary {
  if (!total) return part;
  return {
    transport: total.transport,
    sent: total.sent + part.sent,
    skipped: total.skipped + part.skipped,
    maybeSent: total.maybeSent + part.maybeSent,
    failed: total.failed + part.failed,
    outcomes: [...total.outcomes, ...part.outcomes],
  };
}

async function writeReportFiles(files: RenderedReport['files'], email: RenderedEmail, csv: string): Promise<void> {
  const dir = dirname(files.html);
  if (dirname(files.text) === dir && dirname(files.csv) === dir) {
    await writeFilesAtomic(dir, [
      { name: basename(files.html), content: email.html },
      { name: basename(files.text), content: email.text },
      { name: basename(files.csv), content: csv },
    ]);
  } else {
    await Promise.all([writeFileAtomic(files.html, email.html), writeFileAtomic(files.text, email.text), writeFileAtomic(files.csv, csv)]);
  }
}

export async function runReports(opts: RunReportsOptions): Promise<ReportRunSummary> {
  const { dataDir, config, month, logger, clock } = opts;
  if (!isMonth(month)) throw new UsageError(`--month: bad month ${JSON.stringify(month)}: expected YYYY-MM, e.g. 2026-10`);
  const whPath = warehousePath(dataDir);
  if (!existsSync(whPath)) throw new Error(`no warehouse at ${whPath}: run \`cdrpipe transform\` first (after \`cdrpipe ingest\`)`);
  const mode = opts.dryRun ? 'dry-run' : opts.send ? 'send' : 'render';
  const times = opts.times;
  const renderer = timedSync(times, 'templates', () => ReportRenderer.load(opts.templatesDir));
  const generatedAt = clock
    .now()
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z');
  // One open of the warehouse for the run: its data tests, then every query.
  const db = await timed(times, 'warehouse open', () => Db.open(whPath, { readOnly: true, settings: duckdbSettings(config, dataDir) }));
  let failedTests: string[];
  try {
    failedTests = await timed(times, 'data tests', () => failedDataTests(dataDir, db));
  } catch (err) {
    db.close();
    throw err;
  }
  if (failedTests.length > 0) logger.warn({ failedTests }, 'warehouse data tests failed: reports render for review but will not be sent');
  const fromProblem = mailAddressProblem(opts.env.mailFrom);
  // Reports go out chunk by chunk as they are rendered, unless something forbids sending: then
  // everything is still rendered for review, and the refusal comes at the end.
  const sendAsRendered = mode === 'send' && !fromProblem && failedTests.length === 0;
  const from = { name: '', address: opts.env.mailFrom };
  // The billing summary is about every domain: a run limited by --domain renders it but leaves
  // sending it to a full run (so resending one customer never re-mails the billing team).
  const limited = (opts.domains?.length ?? 0) > 0;
  const outDir = reportsDir(dataDir, month);
  const renderFailures: { domain: string; error: string }[] = [];
  const rendered: RenderedReport[] = [];
  const writes = pLimit(FILE_WRITES_IN_FLIGHT);
  const smtp = smtpSettings(config, opts.env.smtpUrl);
  let made: MailTransport | undefined;
  try {
    made = sendAsRendered ? (opts.transport ?? createTransportFromEnv(opts.env, dataDir, clock, smtp)) : undefined;
  } catch (err) {
    db.close();
    throw err;
  }
  const transport = made;
  let delivery: DeliverySummary | undefined = transport
    ? { transport: transport.description, sent: 0, skipped: 0, maybeSent: 0, failed: 0, outcomes: [] }
    : undefined;

  const send = async (pending: Pending[]): Promise<DeliverySummary | undefined> => {
    if (!transport) return undefined;
    const items: DeliveryItem[] = [];
    for (const p of pending) {
      if (limited && p.rendered.report === 'billing-summary') continue;
      for (const recipient of p.rendered.recipients) items.push(deliveryItem(p, month, from, recipient));
    }
    if (items.length === 0) return undefined;
    return deliver(items, {
      dataDir,
      transport,
      force: opts.force,
      clock,
      logger,
      signal: opts.signal,
      retry: opts.retry,
      concurrency: smtp.maxConnections,
      batchSize: items.length,
      times,
    });
  };
  /** Deliveries in the order their groups were rendered (their summaries are added in that order). */
  const deliveries: Promise<DeliverySummary | undefined>[] = [];

  let billingRows: BillingSummaryRow[];
  let unbillableRows: UnbillableRow[];
  let costRows: CostSectionRows | undefined;
  let billing: Pending;
  let billingSent = false;
  let nextData: Promise<Map<string, CustomerMonthData> | Error> | undefined;
  // The run's reads and writes of state.duckdb (reconciliations, send-log claims and records,
  // dropped recipients) share one open while they come in quick succession.
  const stateHold = holdState(dataDir);
  try {
    try {
      const billingMark = times?.start();
      let domainRows = await queryDomains(db);
      const known = new Set(domainRows.map((d) => d.domain));
      const unknown = (opts.domains ?? []).filter((d) => !known.has(d));
      if (unknown.length > 0) {
        throw new UsageError(
          `--domain: no domain ${unknown.map((d) => JSON.stringify(d)).join(', ')} in the warehouse (known: ${[...known].join(', ') || 'none'})`,
        );
      }
      const wanted = opts.domains && opts.domains.length > 0 ? new Set(opts.domains) : undefined;
      domainRows = domainRows.filter((d) => (wanted ? wanted.has(d.domain) : customerFor(config, d.domain).reports !== false));
      billingRows = await queryBillingSummary(db, month);
      unbillableRows = await queryUnbillableCalls(db, month);
      costRows = await queryCostSection(db, month);
      if (billingMark) times?.end('billing queries', billingMark);
      const callsOf = new Map(billingRows.map((r) => [r.domain, Number(r.calls)]));
      const chunks = chunkDomains(domainRows, (d) => callsOf.get(d) ?? 0);
      const csvSettings = callsCsvSettings(config);
      // The rows streamed for the attachments are garbage once their text is built: collected every
      // so often, so the heap holds about the chunks' text, not every row the run has read.
      const garbage = new HeapGarbage(resourceBudget(config.resources.memoryMiB).reportGarbageMiB * 2 ** 20);
      // A chunk's figures are read (by DuckDB's threads) while the previous chunk, or the billing
      // summary, is rendered and sent. Settled into a value so that a failure waits for its turn.
      const queryChunk = (chunk: DomainRow[]): Promise<Map<string, CustomerMonthData> | Error> =>
        timed(times, 'queries', () =>
          queryCustomerMonths(
            db,
            chunk.map((d) => d.domain),
            month,
            { callsCsv: csvSettings, garbage },
          ),
        ).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
      nextData = chunks.length > 0 ? queryChunk(chunks[0]!) : undefined;
      // The billing team's summary covers every domain, whatever --domain selected. It is ready
      // before the customers' reports and goes out with the last of them (one delivery, one pair
      // of send-log writes, fewer than on its own).
      billing = await timed(times, 'billing render', () =>
        renderBilling(billingRows, unbillableRows, { config, month, generatedAt, renderer, outDir, dataDir, costRows }),
      );
      await timed(times, 'billing files', () => writeReportFiles(billing.rendered.files, billing.email, billing.csv));

      for (const [i, chunk] of chunks.entries()) {
        opts.signal?.throwIfAborted();
        const data = await nextData!;
        nextData = i + 1 < chunks.length ? queryChunk(chunks[i + 1]!) : undefined;
        if (data instanceof Error) {
          for (const d of chunk) renderFailures.push({ domain: d.domain, error: data.message });
          continue;
        }
        const last = i === chunks.length - 1;
        for (let g = 0; g < chunk.length; g += REPORT_SEND_GROUP) {
          // An interrupted run stops between groups; the groups already handed over finish first (finally below).
          opts.signal?.throwIfAborted();
          const group = chunk.slice(g, g + REPORT_SEND_GROUP);
          const pending = await renderAndWrite(group, data);
          rendered.push(...pending.map((p) => p.rendered));
          const lastGroup = last && g + REPORT_SEND_GROUP >= chunk.length;
          deliveries.push(send(lastGroup ? [...pending, billing] : pending));
          billingSent ||= lastGroup;
        }
        // At most one chunk's messages are in flight when the next chunk's are rendered.
        await Promise.all(deliveries);
      }
    } finally {
      // Messages handed over are sent and recorded, and a chunk read ahead finishes, before the database closes.
      await Promise.allSettled(deliveries);
      await nextData;
      timedSync(times, 'warehouse close', () => db.close());
    }
    rendered.push(billing.rendered);
    if (!billingSent) deliveries.push(send([billing]));
    for (const part of await Promise.all(deliveries)) if (part) delivery = addDelivery(delivery, part);
  } catch (err) {
    await stateHold.release();
    throw err;
  } finally {
    if (transport && !opts.transport) await timed(times, 'transport close', () => transport.close());
  }

  /** A group of customers rendered (pages inlined together) and their files written; the ones that made it, in the group's order. */
  async function renderAndWrite(group: DomainRow[], data: Map<string, CustomerMonthData>): Promise<Pending[]> {
    const pending: Pending[] = [];
    const written: Promise<void>[] = [];
    const renderMark = times?.start();
    const reports = renderCustomers(
      group.map((d) => ({ d, rows: data.get(d.domain)! })),
      { config, month, generatedAt, renderer, outDir },
    );
    for (const [j, d] of group.entries()) {
      const p = reports[j]!;
      if (p instanceof Error) {
        renderFailed(d.domain, p);
        continue;
      }
      if (p.rendered.clipped)
        logger.warn({ domain: d.domain, htmlBytes: p.rendered.htmlBytes }, 'report HTML is over 102 KB: Gmail will clip it');
      written.push(
        writes(() => writeReportFiles(p.rendered.files, p.email, p.csv)).then(
          () => void pending.push(p),
          (err: unknown) => renderFailed(d.domain, err),
        ),
      );
    }
    if (renderMark) times?.end('render', renderMark);
    await timed(times, 'files', () => Promise.all(written));
    // Files are written concurrently: keep the domains' order for the summary and the sends.
    const order = new Map(group.map((d, i) => [d.domain, i]));
    return pending.sort((a, b) => order.get(a.rendered.domain)! - order.get(b.rendered.domain)!);
  }

  function renderFailed(domain: string, err: unknown): void {
    const error = err instanceof Error ? err.message : String(err);
    renderFailures.push({ domain, error });
    logger.error({ domain, err: error }, 'report not rendered');
  }

  const droppedRecipients = rendered.flatMap((r) => r.droppedRecipients.map((d) => ({ domain: r.domain, ...d })));
  const summary: ReportRunSummary = {
    month,
    mode,
    reports: rendered,
    renderFailures,
    noRecipients: rendered.filter((r) => r.recipients.length === 0).map((r) => r.domain),
    droppedRecipients,
    failedDataTests: failedTests,
    delivery,
    rows: rendered.filter((r) => r.report === 'monthly-usage').reduce((s, r) => s + r.csvRows, 0),
    failed: renderFailures.length > 0 || (delivery?.failed ?? 0) > 0,
  };
  for (const r of droppedRecipients)
    logger.warn({ domain: r.domain, recipient: r.template, reason: r.reason }, 'report recipient left out');
  try {
    await timed(times, 'dropped recipients', () =>
      noteDroppedRecipients(
        dataDir,
        month,
        rendered.filter((r) => r.report === 'monthly-usage').map((r) => ({ domain: r.domain, dropped: r.droppedRecipients })),
        clock,
      ),
    );
  } finally {
    await timed(times, 'state close', () => stateHold.release());
  }
  if (mode !== 'send') return summary;
  if (fromProblem) throw new ConfigError(`environment variable MAIL_FROM ${fromProblem}`, 'MAIL_FROM');
  if (failedTests.length > 0) {
    throw new Error(
      `refusing to send the ${month} reports: warehouse data tests failed: ${failedTests.join(', ')}. ` +
        `The rendered files are in ${outDir} for review; fix the data, run \`cdrpipe transform\`, then send again. ` +
        `Details: cdrpipe sql "SELECT * FROM data_test_results WHERE status IN ('fail','error')"`,
    );
  }
  return summary;
}
