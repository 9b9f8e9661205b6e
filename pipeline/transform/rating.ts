/**
 * The reference implementation of the rating rule, in integers only. The SQL model
 * reports/models/rated_calls.sql implements the same rule; test/transform/rating.test.ts
 * checks that both agree on the trade's vectors.
 */
import { formatMoneyText, parseMoney, roundMoney } from '../util/money.ts';

/** How one call line is billed: the trade's increments, a minimum, a per-call connect fee. */
export interface IncrementRule {
  /** Price per minute as decimal text, e.g. "0.0125". */
  perMinute: string;
  /** Seconds billed as the first block ("60" in 60/6). */
  initialIncrement: number;
  /** Each started block after the first ("6" in 60/6). */
  subsequentIncrement: number;
  /** A call shorter than this is billed as this long (before increments). */
  minimumSeconds: number;
  /** Added once per answered call, decimal text. */
  connectFee: string;
}

function positiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a whole number of seconds >= 1, got ${v}`);
}

/**
 * Billable seconds of one call: 0 when nothing was talked; otherwise max(talk, minimum), billed as
 * the first `initial` seconds, then each started `subsequent` seconds. 60/6 bills 61 s as 66 s;
 * 10/6 bills 30 s as 34 s.
 */
export function billableSeconds(
  talkS: number,
  rule: Pick<IncrementRule, 'initialIncrement' | 'subsequentIncrement' | 'minimumSeconds'>,
): number {
  positiveInt('initialIncrement', rule.initialIncrement);
  positiveInt('subsequentIncrement', rule.subsequentIncrement);
  if (!Number.isInteger(talkS) || talkS < 0) throw new Error(`talk seconds must be a whole number >= 0, got ${talkS}`);
  if (talkS === 0) return 0;
  const s = Math.max(talkS, rule.minimumSeconds);
  if (s <= rule.initialIncrement) return rule.initialIncrement;
  const rest = s - rule.initialIncrement;
  return rule.initialIncrement + Math.ceil(rest / rule.subsequentIncrement) * rule.subsequentIncrement;
}

/**
 * Charge in micro-units for `chargedS` seconds at `perMinute`, plus the connect fee, rounded half-up
 * to `decimals` places (the plan's rounding, applied once per call line).
 */
export function chargeMicros(chargedS: number, perMinute: string, connectFee: string, decimals: number): bigint {
  // Exact value in units of 1/60 micro: seconds * micro-per-minute + fee * 60.
  const num = BigInt(chargedS) * parseMoney(perMinute) + parseMoney(connectFee) * 60n;
  return roundMoney(num, decimals, 60n);
}

export const RATE_RULES = ['deck', 'inbound', 'toll-free-inbound', 'internal', 'none'] as const;
/** Which price applies to a call line (rated_calls.rate_rule). */
export type RateRule = (typeof RATE_RULES)[number];

/** What the choice of rule depends on: the leg's direction, whether it is billable, and its DID. */
export interface RuleInput {
  direction: string;
  /** False for registration noise and self-calls. */
  billable: boolean;
  /** number_class of the customer's own number on the call (for inbound legs, the DID called). */
  didClass: string;
}

/**
 * The rule that prices a call line: the deck for outbound, the plan's flat rules for inbound and
 * missed legs. The toll-free rule follows the DID called, never the caller's number: a call from
 * an 8xx caller id to an ordinary DID is priced as inbound.
 */
export function rateRule(c: RuleInput): RateRule {
  if (!c.billable) return 'none';
  if (c.direction === 'internal') return 'internal';
  if (c.direction === 'outbound') return 'deck';
  if (c.direction === 'inbound' || c.direction === 'missed') return c.didClass === 'toll-free' ? 'toll-free-inbound' : 'inbound';
  return 'none';
}

export interface RatedLine {
  billableS: number;
  /** Seconds covered by the included-minutes pool. */
  includedS: number;
  /** billableS - includedS: the seconds priced at perMinute. */
  chargedS: number;
  /** Decimal text with 6 places (DECIMAL(18,6)), already rounded to the plan's decimals. */
  charge: string;
}

/**
 * Rates one call line. `poolLeftS` is what is left of the monthly included pool before this call
 * (0 when the call's class does not draw on the pool). A call that exhausts the pool pays only the
 * excess seconds. The connect fee applies to every answered call with billable seconds.
 */
export function rateLine(talkS: number, rule: IncrementRule, decimals: number, poolLeftS = 0): RatedLine {
  const billableS = billableSeconds(talkS, rule);
  const includedS = Math.min(Math.max(poolLeftS, 0), billableS);
  const chargedS = billableS - includedS;
  const charge = billableS === 0 ? 0n : chargeMicros(chargedS, rule.perMinute, rule.connectFee, decimals);
  return { billableS, includedS, chargedS, charge: formatMoneyText(charge) };
}

/**
 * Rates calls in order (the caller sorts them by start_time, id) against one monthly pool, as the
 * SQL does with a running sum. `drawsOnPool` says which lines consume included minutes.
 */
export function rateMonth(
  lines: { talkS: number; rule: IncrementRule; drawsOnPool: boolean }[],
  decimals: number,
  includedMinutes: number,
): RatedLine[] {
  let used = 0;
  const pool = includedMinutes * 60;
  return lines.map((l) => {
    const left = l.drawsOnPool ? pool - used : 0;
    const r = rateLine(l.talkS, l.rule, decimals, left);
    if (l.drawsOnPool) used += r.billableS;
    return r;
  });
}
