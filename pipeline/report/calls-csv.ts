/** The CSV attachment: one line per billable call leg of the customer-month, in the customer's local time. */
import { csvNumber, toCsv } from '../util/csv.ts';
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

/** The attachment's text (RFC 4180, formula-safe), rows in call order. */
export function buildCallsCsv(rows: readonly BilledCallRow[], opts: { currency: string; decimals: number }): string {
  return toCsv(
    CALLS_CSV_HEADER,
    rows.map((r) => [
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
    ]),
  );
}
