/**
 * The dispute file a carrier's dispute desk gets: one line per record we contest (duration and
 * cost disputes, phantoms), in the columns such desks ask for. Formula-safe CSV (util/csv.ts):
 * a carrier's call id or number can never run as a spreadsheet formula.
 */
import { join } from 'node:path';
import { reportsDir } from '../lake/index.ts';
import { csvNumber, toCsv, type CsvValue } from '../util/csv.ts';
import { writeFileAtomic } from '../util/atomic-file.ts';

export const DISPUTE_COLUMNS = [
  'call_id',
  'start',
  'from',
  'to',
  'carrier_seconds',
  'our_seconds',
  'carrier_cost',
  'expected_cost',
  'reason',
] as const;

/** A contested record as read from carrier_matches. */
export interface DisputeRow {
  call_id: string | null;
  start: string;
  from_number: string | null;
  to_number: string | null;
  carrier_seconds: number | null;
  our_seconds: number | null;
  carrier_cost: string;
  expected_cost: string;
  reason: string;
}

/** reports/YYYY-MM/carriers/<carrier>/disputes.csv */
export function disputeFilePath(dataDir: string, month: string, carrier: string): string {
  return join(reportsDir(dataDir, month), 'carriers', carrier, 'disputes.csv');
}

const num = (v: number | string | null): CsvValue => (v === null ? null : csvNumber(String(v)));

/** The CSV text: header, then the rows in the order given. */
export function disputeCsv(rows: readonly DisputeRow[]): string {
  return toCsv(
    DISPUTE_COLUMNS,
    rows.map((r) => [
      r.call_id,
      r.start,
      r.from_number,
      r.to_number,
      num(r.carrier_seconds),
      num(r.our_seconds),
      num(r.carrier_cost),
      num(r.expected_cost),
      r.reason,
    ]),
  );
}

/** Writes the carrier's dispute file (header only when nothing is contested) and returns its path. */
export async function writeDisputeFile(dataDir: string, month: string, carrier: string, rows: readonly DisputeRow[]): Promise<string> {
  const path = disputeFilePath(dataDir, month, carrier);
  await writeFileAtomic(path, disputeCsv(rows));
  return path;
}
