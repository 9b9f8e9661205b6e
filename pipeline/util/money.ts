/**
 * Money without binary floating point, the one implementation for rating, reports and exports.
 *
 * Scale: amounts are bigint counts of micro-units (1e-6 of the currency unit), the scale of the
 * warehouse's DECIMAL(18,6), and travel as decimal text.
 * Rounding: half away from zero (half-up for the non-negative amounts billing produces), applied
 * once per call line to the plan's decimals, exactly as reports/macros/money.sql `line_charge`
 * does; sums of rounded lines are exact and are never rounded again except for display.
 */

export const MONEY_SCALE = 6;
const MICRO = 10n ** BigInt(MONEY_SCALE);

const DECIMAL_RE = /^(-)?(\d+)(?:\.(\d+))?$/;
const MONEY_RE = /^(-)?(\d+)(?:\.(\d{1,6}))?$/;

/** Half away from zero of a / b for b > 0. */
function divRoundHalfAway(a: bigint, b: bigint): bigint {
  const neg = a < 0n;
  const q = ((neg ? -a : a) * 2n + b) / (b * 2n);
  return neg ? -q : q;
}

/**
 * Decimal text to an integer count of 10^-scale units, rounding half away from zero:
 * ("12.345", 2) -> 1235n. For any decimal figure (ratios, minutes); money uses parseMoney.
 */
export function parseDecimal(text: string, scale: number): bigint {
  const m = DECIMAL_RE.exec(text.trim());
  if (!m) throw new Error(`not a decimal number: ${JSON.stringify(text)} (expected digits with an optional fraction, e.g. "12.34")`);
  const frac = m[3] ?? '';
  const kept = frac.slice(0, scale).padEnd(scale, '0');
  let value = BigInt(m[2]! + kept);
  const firstDropped = frac.charAt(scale);
  if (firstDropped !== '' && firstDropped >= '5') value += 1n;
  return m[1] === '-' ? -value : value;
}

/** Inserts "," every three digits of a run of digits. */
export function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A count of 10^-scale units as decimal text with exactly `scale` fraction digits: (5n, 2) -> "0.05". */
export function formatScaled(value: bigint, scale: number, opts: { grouping?: boolean } = {}): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, '0');
  let intPart = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale);
  if (opts.grouping) intPart = groupThousands(intPart);
  return (negative ? '-' : '') + intPart + (scale > 0 ? '.' + frac : '');
}

/**
 * Money text to micro-units: "0.0125" -> 12500n. Exact: refuses more than 6 decimals, exponents
 * and anything that is not plain decimal text (a sign is allowed; callers that need a price check
 * for >= 0 themselves).
 */
export function parseMoney(text: string): bigint {
  const m = MONEY_RE.exec(text.trim());
  if (!m) throw new Error(`bad amount ${JSON.stringify(text)}: expected plain decimal text with at most 6 decimals, e.g. "0.0125"`);
  const value = BigInt(m[2]!) * MICRO + BigInt((m[3] ?? '').padEnd(MONEY_SCALE, '0'));
  return m[1] === '-' ? -value : value;
}

/**
 * `micros / divisor` micro-units rounded to `decimals` places (0..6) by the billing rule, in
 * micro-units. The divisor lets an exact fraction be rounded once (a per-minute price times
 * seconds is in 1/60 micro-units: divisor 60n).
 */
export function roundMoney(micros: bigint, decimals: number, divisor = 1n): bigint {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > MONEY_SCALE)
    throw new Error(`decimals must be 0..${MONEY_SCALE}, got ${decimals}`);
  if (divisor <= 0n) throw new Error(`divisor must be positive, got ${divisor}`);
  const step = 10n ** BigInt(MONEY_SCALE - decimals);
  return divRoundHalfAway(micros, step * divisor) * step;
}

/** Micro-units as text with `decimals` places, rounded by the billing rule: 12500n -> "0.012500"; (5000n, 2) -> "0.01". */
export function formatMoneyText(micros: bigint, decimals = MONEY_SCALE, opts: { grouping?: boolean } = {}): string {
  const step = 10n ** BigInt(MONEY_SCALE - decimals);
  return formatScaled(roundMoney(micros, decimals) / step, decimals, opts);
}

/** Normalises money text to DECIMAL(18,6) text: "1.5" -> "1.500000". */
export function toMoney6(text: string): string {
  return formatMoneyText(parseMoney(text));
}

/** Exact sum of money texts (each read at the money scale), as DECIMAL(18,6) text. */
export function sumMoney(values: readonly string[]): string {
  let total = 0n;
  for (const v of values) total += parseDecimal(v, MONEY_SCALE);
  return formatMoneyText(total);
}

const SYMBOLS: Readonly<Record<string, string>> = { USD: '$', CAD: 'CA$', AUD: 'A$', EUR: '€', GBP: '£', NZD: 'NZ$' };

/** "1234.5" USD 2 -> "$1,234.50"; unknown currencies get their code: "CHF 12.00". Rounded by the billing rule. */
export function formatMoney(text: string, currency: string, decimals: number): string {
  // Read straight at the display scale: one rounding, never two.
  const scaled = parseDecimal(text, decimals);
  const body = formatScaled(scaled < 0n ? -scaled : scaled, decimals, { grouping: true });
  const symbol = SYMBOLS[currency];
  const withUnit = symbol ? `${symbol}${body}` : `${currency} ${body}`;
  return scaled < 0n ? `-${withUnit}` : withUnit;
}
