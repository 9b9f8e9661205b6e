/**
 * Reconciliation output: the CSV file and the terminal table.
 */
import { writeFileAtomic } from '../util/atomic-file.ts';
import { numericCell, toCsv, type CsvValue } from '../util/csv.ts';
import type { ReconcileResult, ReconcileRow } from './reconcile-types.ts';

export const RECONCILE_CSV_COLUMNS = [
  'month',
  'domain',
  'status',
  'time_zone',
  'window_start',
  'window_end',
  'month_to_date',
  'api_total',
  'lake_total',
  'api_seconds',
  'lake_seconds',
  'lake_rows',
  'duplicate_ids',
  'rejects',
  'open_anomalies',
  'billed_s',
  'billed_charge',
  'currency',
  'charge_by_class',
  'detail',
] as const;

function csvRows(rows: readonly ReconcileRow[]): CsvValue[][] {
  return rows.map((r) => [
    r.month,
    r.domain,
    r.status,
    r.timeZone,
    r.windowStart,
    r.windowEnd,
    r.monthToDate,
    r.apiTotal,
    r.lakeTotal,
    r.apiSeconds,
    r.lakeSeconds,
    r.lakeRows,
    r.duplicateIds,
    r.rejects,
    r.openAnomalies,
    r.billedS,
    r.billedCharge === null ? null : numericCell(r.billedCharge),
    r.currency,
    r.byClass.map((c) => `${c.call_class}=${c.charge}`).join(' '),
    r.detail,
  ]);
}

/** Writes the CSV so that no reader sees half of it (util/atomic-file.ts). */
export async function writeReconcileCsv(path: string, rows: readonly ReconcileRow[]): Promise<void> {
  await writeFileAtomic(path, toCsv(RECONCILE_CSV_COLUMNS, csvRows(rows)));
}

/** The terminal table. */
export function formatReconcileTable(result: ReconcileResult): string {
  const head = ['domain', 'status', 'api_cdrs', 'lake_cdrs', 'api_s', 'lake_s', 'dup_ids', 'rejects', 'anomalies', 'billed', 'detail'];
  const body = result.rows.map((r) => [
    r.domain,
    r.status === 'ok' ? 'ok' : 'OFF',
    String(r.apiTotal),
    String(r.lakeTotal),
    String(r.apiSeconds),
    String(r.lakeSeconds),
    String(r.duplicateIds),
    String(r.rejects),
    String(r.openAnomalies),
    r.billedCharge === null ? '-' : `${r.billedCharge} ${r.currency ?? ''}`.trim(),
    r.detail,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const numeric = new Set([2, 3, 4, 5, 6, 7, 8, 9]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const lines = [
    `Reconciliation ${result.month} (each domain's local month; lake vs API /cdrs/count)`,
    line(head),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...body.map(line),
  ];
  lines.push(
    result.ok
      ? `all ${result.domains} domain(s) reconcile`
      : `${result.off.length} of ${result.domains} domain(s) do NOT reconcile: ${result.off.map((o) => o.domain).join(', ')}`,
  );
  if (result.rows.some((r) => r.status !== 'ok' && r.lakeTotal < r.apiTotal)) {
    // The usual cause: an ingest that covered the UTC month only, while a local month reaches up to
    // 14 h either side of it.
    const [y, m] = result.month.split('-').map(Number) as [number, number];
    const from = new Date(Date.UTC(y, m - 1, 0)).toISOString().slice(0, 10);
    const to = new Date(Date.UTC(y, m, 2)).toISOString().slice(0, 10);
    lines.push(
      `CDRs are missing from the lake: ingest the whole local month of every time zone, e.g. \`cdrpipe ingest --from ${from} --to ${to}\`, then run reconcile again`,
    );
  }
  lines.push(`csv: ${result.csvPath}`);
  return lines.join('\n') + '\n';
}
