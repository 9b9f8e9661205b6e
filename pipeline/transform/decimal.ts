/**
 * Money in TypeScript without binary floating point: amounts are bigint counts of micro-units
 * (1e-6 of the currency unit, the scale of DECIMAL(18,6) in the warehouse) and travel as decimal text.
 */

export const MICRO_SCALE = 6;
const MICRO = 1_000_000n;
const DECIMAL_RE = /^(\d+)(?:\.(\d{1,6}))?$/;

/** "0.0125" -> 12500n. Refuses negatives, more than 6 decimals, exponents and anything not plain decimal text. */
export function parseMicros(text: string): bigint {
  const m = DECIMAL_RE.exec(text.trim());
  if (!m) throw new Error(`bad decimal ${JSON.stringify(text)}: expected plain decimal text with at most 6 decimals, e.g. "0.0125"`);
  const whole = BigInt(m[1]!);
  const frac = BigInt((m[2] ?? '').padEnd(MICRO_SCALE, '0'));
  return whole * MICRO + frac;
}

/** 12500n -> "0.012500" (always 6 decimals, like DECIMAL(18,6) text), or with `decimals` places. */
export function formatMicros(micros: bigint, decimals = MICRO_SCALE): string {
  const neg = micros < 0n;
  const abs = neg ? -micros : micros;
  const whole = abs / MICRO;
  const frac = (abs % MICRO).toString().padStart(MICRO_SCALE, '0').slice(0, decimals);
  return `${neg ? '-' : ''}${whole}${decimals > 0 ? '.' + frac : ''}`;
}

/** Normalises decimal text to DECIMAL(18,6) text: "1.5" -> "1.500000". */
export function toDecimal6(text: string): string {
  return formatMicros(parseMicros(text));
}
