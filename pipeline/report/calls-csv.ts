/** The CSV attachment: one line per billable call leg of the customer-month, in the customer's local time. */
import { csvNumber, csvRow, toCsv, type CsvValue } from '../util/csv.ts';
import { formatScaled, MONEY_SCALE, parseDecimal } from '../util/money.ts';
import type { BilledCallRow } from './warehouse-queries.ts';

export const CALLS_CSV_HEADER = [
  'start_local',
  'direction',
  'user',
  'caller_name',
  'from_number',
  'to_number',
  'call_class',
  'destination',
  'talk_seconds',
  'billable_seconds',
  'charge',
  'currency',
  'call_id',
] as const;

/**
 * Charge text with the plan's decimals when that loses nothing (charges are rounded per line
 * already), otherwise every stored digit: the column must sum exactly to the report's total.
 */
export function csvCharge(charge: string, decimals: number): string {
  const full = parseDecimal(charge, MONEY_SCALE);
  const unit = 10n ** BigInt(MONEY_SCALE - decimals);
  return full % unit === 0n ? formatScaled(full / unit, decimals) : formatScaled(full, MONEY_SCALE);
}

/** One call leg as the attachment's cells. */
function callCells(r: BilledCallRow, opts: { currency: string; decimals: number }): CsvValue[] {
  return [
    r.start_local,
    r.direction,
    r.user_id,
    r.caller_name,
    r.caller_number,
    r.dialed_number,
    r.call_class,
    r.rate_description,
    csvNumber(r.talk_s),
    csvNumber(r.billable_s),
    csvNumber(csvCharge(r.charge, opts.decimals)),
    r.currency ?? opts.currency,
    r.id,
  ];
}

/** The attachment's text (RFC 4180, formula-safe), rows in call order. */
export function buildCallsCsv(rows: readonly BilledCallRow[], opts: { currency: string; decimals: number }): string {
  return toCsv(
    CALLS_CSV_HEADER,
    rows.map((r) => callCells(r, opts)),
  );
}

/**
 * The same text built a batch of rows at a time (rows arrive from the warehouse in batches and
 * only their text is kept, a fraction of the rows' size): `add` the batches in call order, then
 * `text()` is exactly what buildCallsCsv gives for all the rows.
 */
export class CallsCsvBuilder {
  private readonly parts: string[] = [csvRow(CALLS_CSV_HEADER) + '\r\n'];
  /** Rows added so far. */
  rows = 0;

  constructor(private readonly opts: { currency: string; decimals: number }) {}

  /** Adds the batch's lines; returns their length in characters. */
  add(batch: readonly BilledCallRow[]): number {
    let text = '';
    for (const r of batch) text += csvRow(callCells(r, this.opts)) + '\r\n';
    this.parts.push(text);
    this.rows += batch.length;
    return text.length;
  }

  text(): string {
    return this.parts.join('');
  }
}
