/**
 * Exact decimal arithmetic on money written as text (DuckDB DECIMAL arrives as strings such as
 * "12.340000"). Values are held as scaled bigints, so sums and displays never touch binary floats.
 */

const DECIMAL_RE = /^(-)?(\d+)(?:\.(\d+))?$/;

/** Parses decimal text into an integer count of 10^-scale units, rounding half away from zero. */
export function toScaled(text: string, scale: number): bigint {
  const m = DECIMAL_RE.exec(text.trim());
  if (!m) throw new Error(`not a decimal number: ${JSON.stringify(text)} (expected digits with an optional fraction, e.g. "12.34")`);
  const negative = m[1] === '-';
  const intPart = m[2]!;
  const frac = m[3] ?? '';
  const kept = frac.slice(0, scale).padEnd(scale, '0');
  let value = BigInt(intPart + kept);
  const firstDropped = frac.charAt(scale);
  if (firstDropped !== '' && firstDropped >= '5') value += 1n;
  return negative ? -value : value;
}

/** Writes a scaled bigint back as decimal text with exactly `scale` fraction digits. */
export function fromScaled(value: bigint, scale: number, opts: { grouping?: boolean } = {}): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, '0');
  let intPart = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale);
  if (opts.grouping) intPart = groupThousands(intPart);
  return (negative ? '-' : '') + intPart + (scale > 0 ? '.' + frac : '');
}

/** Exact sum of decimal texts, returned with `scale` fraction digits. */
export function sumDecimals(values: readonly string[], scale: number): string {
  let total = 0n;
  for (const v of values) total += toScaled(v, scale);
  return fromScaled(total, scale);
}

/** Inserts "," every three digits of a run of digits. */
export function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

const SYMBOLS: Readonly<Record<string, string>> = { USD: '$', CAD: 'CA$', AUD: 'A$', EUR: '€', GBP: '£', NZD: 'NZ$' };

/** "1234.5" USD 2 -> "$1,234.50"; unknown currencies get their code: "CHF 12.00". */
export function formatMoney(text: string, currency: string, decimals: number): string {
  const scaled = toScaled(text, decimals);
  const body = fromScaled(scaled < 0n ? -scaled : scaled, decimals, { grouping: true });
  const symbol = SYMBOLS[currency];
  const withUnit = symbol ? `${symbol}${body}` : `${currency} ${body}`;
  return scaled < 0n ? `-${withUnit}` : withUnit;
}
