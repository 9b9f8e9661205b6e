/**
 * `carrier reconcile`: rebuilds the warehouse (so the carrier files imported since the last build
 * count), reads each carrier's month from carrier_matches, writes the dispute files and judges the
 * result against each carrier's dispute thresholds. The matching itself is SQL
 * (reports/models/carrier_matches.sql); this module only reads and writes its results.
 */
import { withDb } from '../db/duckdb.ts';
import type { StageContext } from '../config/index.ts';
import { warehousePath } from '../lake/index.ts';
import { DataTestFailedError, runTransform } from '../transform/index.ts';
import { CdrpipeError, EXIT, UsageError } from '../util/errors.ts';
import { isMonth } from '../util/month.ts';
import { formatMoneyText, parseMoney } from '../util/money.ts';
import { resolveCarrier } from './carrier-settings.ts';
import { writeDisputeFile, type DisputeRow } from './reconcile-disputes.ts';
import type { CarrierOverThreshold, CarrierReconcileLine, CarrierReconcileResult } from './reconcile-types.ts';

/** Disputes or phantoms beyond a carrier's thresholds: exit 3, like a revenue-side mismatch. */
export class CarrierDisputeError extends CdrpipeError {
  override readonly name = 'CarrierDisputeError';
  override readonly exitCode = EXIT.mismatch;
  constructor(readonly over: CarrierOverThreshold[]) {
    super(
      `carrier disputes over the thresholds: ${over.map((o) => `${o.carrier} (${o.detail})`).join('; ')}; ` +
        `send the dispute files to the carriers, or raise carriers.<name>.disputeThresholds in jobs.config.ts`,
    );
  }
}

export interface CarrierReconcileOptions extends StageContext {
  /** The UTC month, YYYY-MM. */
  month: string;
  /** Only this carrier (it must be configured or built in). */
  carrier?: string;
  /** Rebuild the warehouse first (default true); false when the caller has just rebuilt it. */
  transform?: boolean;
}

/** A row of the summary query: the contract's line, as DuckDB returns it. */
type SummaryRow = { [K in keyof CarrierReconcileLine]: CarrierReconcileLine[K] };

const SUMMARY_SQL = `
SELECT
  carrier,
  CAST(count(*) FILTER (WHERE status <> 'pbx_only') AS INTEGER) AS records,
  CAST(count(*) FILTER (WHERE status = 'matched') AS INTEGER) AS matched,
  CAST(count(*) FILTER (WHERE status = 'duration_dispute') AS INTEGER) AS duration_dispute,
  CAST(count(*) FILTER (WHERE status = 'cost_dispute') AS INTEGER) AS cost_dispute,
  CAST(count(*) FILTER (WHERE status = 'carrier_only') AS INTEGER) AS carrier_only,
  CAST(count(*) FILTER (WHERE status = 'pbx_only') AS INTEGER) AS pbx_only,
  CAST(coalesce(sum(carrier_cost), 0) AS DECIMAL(18, 6)) AS carrier_cost,
  CAST(coalesce(sum(expected_cost) FILTER (WHERE status <> 'pbx_only'), 0) AS DECIMAL(18, 6)) AS expected_cost,
  CAST(coalesce(sum(disputed_amount), 0) AS DECIMAL(18, 6)) AS disputed_amount
FROM carrier_matches
WHERE month = $1
GROUP BY carrier
ORDER BY carrier`;

const DISPUTES_SQL = `
SELECT
  call_id,
  strftime(carrier_start AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS start,
  from_number,
  to_number,
  carrier_seconds,
  our_seconds,
  CAST(carrier_cost AS VARCHAR) AS carrier_cost,
  CAST(expected_cost AS VARCHAR) AS expected_cost,
  reason
FROM carrier_matches
WHERE month = $1 AND carrier = $2 AND status IN ('duration_dispute', 'cost_dispute', 'carrier_only')
ORDER BY carrier_start, call_id, record_key`;

/** The data tests of the carrier models: a failure means the matching cannot be trusted. */
const CARRIER_TEST = /^(carrier_|margin_monthly|unbilled_carrier_calls)/;

const cents = (micros: string) => formatMoneyText(parseMoney(micros), 2);

function emptyLine(carrier: string): SummaryRow {
  return {
    carrier,
    records: 0,
    matched: 0,
    duration_dispute: 0,
    cost_dispute: 0,
    carrier_only: 0,
    pbx_only: 0,
    carrier_cost: '0',
    expected_cost: '0',
    disputed_amount: '0',
  };
}

/** Judges one carrier's month against its thresholds; undefined when within them. */
function overThreshold(row: SummaryRow, t: { disputes: number; phantoms: number; amount: string }): CarrierOverThreshold | undefined {
  const why: string[] = [];
  const disputes = row.duration_dispute + row.cost_dispute;
  if (disputes > t.disputes) why.push(`${disputes} dispute(s), threshold ${t.disputes}`);
  if (row.carrier_only > t.phantoms) why.push(`${row.carrier_only} phantom(s), threshold ${t.phantoms}`);
  if (parseMoney(row.disputed_amount) > parseMoney(t.amount)) why.push(`disputed ${cents(row.disputed_amount)}, threshold ${t.amount}`);
  return why.length > 0 ? { carrier: row.carrier, detail: why.join(', ') } : undefined;
}

/**
 * Rebuilds the warehouse; throws DataTestFailedError when a data test of the carrier models
 * failed (the matching cannot be trusted then), whatever else failed.
 */
export async function rebuildWarehouse(ctx: StageContext): Promise<void> {
  const { dataDir, config, logger, clock, signal } = ctx;
  const built = await runTransform({ dataDir, config, logger, clock, ...(signal ? { signal } : {}) });
  const broken = built.tests.filter((t) => (t.status === 'fail' || t.status === 'error') && CARRIER_TEST.test(t.name));
  if (broken.length > 0) throw new DataTestFailedError(broken);
}

/**
 * Reconciles one UTC month of every carrier with records in it (or of `carrier` only) and writes
 * reports/YYYY-MM/carriers/<name>/disputes.csv for each. Never throws for disputes: the result's
 * `ok` and `over` say whether any carrier is beyond its thresholds (the CLI exits 3 then).
 */
export async function runCarrierReconcile(opts: CarrierReconcileOptions): Promise<CarrierReconcileResult> {
  const { dataDir, config, logger, month } = opts;
  if (!isMonth(month)) throw new UsageError(`--month ${JSON.stringify(month)}: expected YYYY-MM, e.g. 2026-10`);
  if (opts.carrier !== undefined) resolveCarrier(config, opts.carrier);

  if (opts.transform !== false) await rebuildWarehouse(opts);

  const { rows, disputes } = await withDb(
    warehousePath(dataDir),
    async (db) => {
      let rows = await db.all<SummaryRow>(SUMMARY_SQL, [month]);
      rows = rows.filter((r) => r.records > 0);
      if (opts.carrier !== undefined) {
        rows = rows.filter((r) => r.carrier === opts.carrier);
        if (rows.length === 0) rows = [emptyLine(opts.carrier)];
      }
      const disputes = new Map<string, DisputeRow[]>();
      for (const r of rows) disputes.set(r.carrier, await db.all<DisputeRow & Record<string, unknown>>(DISPUTES_SQL, [month, r.carrier]));
      return { rows, disputes };
    },
    { readOnly: true },
  );

  const lines: CarrierReconcileLine[] = [];
  const exactDisputed: Record<string, string> = {};
  const disputeFiles: Record<string, string> = {};
  const over: CarrierOverThreshold[] = [];
  for (const r of rows) {
    const terms = resolveCarrier(config, r.carrier);
    lines.push({
      carrier: r.carrier,
      records: r.records,
      matched: r.matched,
      duration_dispute: r.duration_dispute,
      cost_dispute: r.cost_dispute,
      carrier_only: r.carrier_only,
      pbx_only: r.pbx_only,
      carrier_cost: cents(r.carrier_cost),
      expected_cost: cents(r.expected_cost),
      disputed_amount: cents(r.disputed_amount),
    });
    exactDisputed[r.carrier] = formatMoneyText(parseMoney(r.disputed_amount));
    disputeFiles[r.carrier] = await writeDisputeFile(dataDir, month, r.carrier, disputes.get(r.carrier) ?? []);
    const o = overThreshold(r, terms.disputeThresholds);
    if (o) over.push(o);
  }
  logger.info({ month, carriers: lines.length, over: over.map((o) => o.carrier) }, 'carrier reconcile done');
  return { month, lines, exactDisputed, disputeFiles, over, ok: over.length === 0 };
}
