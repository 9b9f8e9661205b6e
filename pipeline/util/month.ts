/** A calendar month as YYYY-MM (a customer's local month, or a lake partition's UTC month). */
export type Month = string;

const MONTH_RE = /^(\d{4})-(0[1-9]|1[0-2])$/;

export function isMonth(value: string): value is Month {
  return MONTH_RE.test(value);
}

/** Parses YYYY-MM, throwing a message that says what is expected. */
export function parseMonth(value: string): { year: number; month: number } {
  const m = MONTH_RE.exec(value);
  if (!m) throw new Error(`bad month ${JSON.stringify(value)}: expected YYYY-MM, e.g. 2026-10`);
  return { year: Number(m[1]), month: Number(m[2]) };
}

export function formatMonth(year: number, month: number): Month {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
}

export function addMonths(value: Month, delta: number): Month {
  const { year, month } = parseMonth(value);
  const idx = year * 12 + (month - 1) + delta;
  return formatMonth(Math.floor(idx / 12), (idx % 12) + 1);
}

/** The UTC month a Date falls in. */
export function utcMonthOf(d: Date): Month {
  return formatMonth(d.getUTCFullYear(), d.getUTCMonth() + 1);
}
