/**
 * CSV per RFC 4180 (CRLF line ends, fields quoted when they hold a quote, comma, CR or LF; quotes
 * doubled) with spreadsheet formula-injection safety: a text cell starting with =, +, -, @, tab or
 * CR gets a leading single quote, so Excel/Sheets/LibreOffice show it as text instead of running it.
 */

/** A number we produced ourselves (seconds, a charge): written as-is, never neutralised. */
export interface CsvNumber {
  readonly csvNumber: string;
}

export type CsvValue = string | number | bigint | boolean | null | undefined | CsvNumber;

const NUMBER_RE = /^-?\d+(\.\d+)?$/;
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** Marks decimal text (e.g. "0.12") as a numeric cell. Throws if it is not a plain decimal. */
export function csvNumber(text: string): CsvNumber {
  if (!NUMBER_RE.test(text)) throw new Error(`csvNumber: ${JSON.stringify(text)} is not a plain decimal number`);
  return { csvNumber: text };
}

/** Prefixes text that a spreadsheet would read as a formula with a single quote. */
export function neutraliseFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** One field, neutralised (text only) and quoted when RFC 4180 requires it. */
export function csvField(value: CsvValue): string {
  let text: string;
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') text = value.csvNumber;
  else if (typeof value === 'number' || typeof value === 'bigint') text = String(value);
  else if (typeof value === 'boolean') text = value ? 'true' : 'false';
  else text = neutraliseFormula(value);
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(values: readonly CsvValue[]): string {
  return values.map(csvField).join(',');
}

/** A whole document: header then rows, every line ended by CRLF. */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  return [csvRow(header), ...rows.map(csvRow)].map((line) => line + '\r\n').join('');
}
