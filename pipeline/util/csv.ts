/**
 * The product's one CSV writer: RFC 4180 (CRLF line ends, fields quoted when they hold a quote,
 * comma, CR or LF; quotes doubled), formula-safe by default for files people open in a
 * spreadsheet (the OWASP CSV injection rule): a text cell a spreadsheet would read as a formula
 * gets a leading single quote, so Excel, Sheets and LibreOffice show it as text instead of
 * running it. Numbers stay numbers: a numeric cell is written as-is only when its text really is
 * a plain number, so a negative amount is never mangled and nothing else passes as a number.
 */

/** A number we know to be numeric (seconds, a charge, a DECIMAL column): written as-is, never neutralised. */
export interface CsvNumber {
  readonly csvNumber: string;
}

export type CsvValue = string | number | bigint | boolean | null | undefined | CsvNumber;

export interface CsvOptions {
  /**
   * Neutralise text that a spreadsheet would run as a formula (default true). False writes text
   * exactly as stored, for programs rather than people (`cdrpipe sql --raw`).
   */
  formulaSafe?: boolean;
}

/** What a spreadsheet reads as a number and nothing else: optional sign, digits, fraction, exponent. */
const PLAIN_NUMBER_RE = /^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
/**
 * OWASP's starting characters (= + - @ TAB CR), also after leading white space (some spreadsheets
 * trim it on import) and in their full-width forms (which some locales' spreadsheets accept).
 */
const FORMULA_START = /^(?:[\t\r]|\s*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20])/;
/** RFC 4180's reasons to quote, plus ';' and TAB: in a locale whose separator is ';' an unquoted ';' would start a new cell. */
const NEEDS_QUOTES = /[",;\t\r\n]/;

/** Marks number text (e.g. "0.12", "-1.50", "2e-7") as a numeric cell. Throws if it is not a plain number. */
export function csvNumber(text: string): CsvNumber {
  if (!PLAIN_NUMBER_RE.test(text))
    throw new Error(`csvNumber: ${JSON.stringify(text)} is not a plain decimal number (sign, digits, fraction, exponent)`);
  return { csvNumber: text };
}

/** True when `text` is a number a spreadsheet cannot read as anything else (e.g. "-1.5", "2e-7"). */
export function isPlainNumber(text: string): boolean {
  return PLAIN_NUMBER_RE.test(text);
}

/** A cell from number text of unknown shape: numeric when it is a plain number, otherwise text (so neutralised). */
export function numericCell(text: string): CsvValue {
  return isPlainNumber(text) ? { csvNumber: text } : text;
}

/** Prefixes text that a spreadsheet would read as a formula with a single quote. */
export function neutraliseFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

function quote(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One field: text neutralised (unless `formulaSafe` is false), then quoted when needed. */
export function csvField(value: CsvValue, opts: CsvOptions = {}): string {
  if (value === null || value === undefined) return '';
  const safe = opts.formulaSafe ?? true;
  let text: string;
  if (typeof value === 'object') text = value.csvNumber;
  else if (typeof value === 'bigint') text = String(value);
  else if (typeof value === 'boolean') text = value ? 'true' : 'false';
  // NaN and ±Infinity are not numbers to a spreadsheet: "-Infinity" would be read as a formula.
  else if (typeof value === 'number')
    text = Number.isFinite(value) ? String(value) : safe ? neutraliseFormula(String(value)) : String(value);
  else text = safe ? neutraliseFormula(value) : value;
  return quote(text);
}

export function csvRow(values: readonly CsvValue[], opts: CsvOptions = {}): string {
  return values.map((v) => csvField(v, opts)).join(',');
}

/** A whole document: header then rows, every line ended by CRLF. Formula-safe unless told otherwise. */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[], opts: CsvOptions = {}): string {
  return [csvRow(header, opts), ...rows.map((r) => csvRow(r, opts))].map((line) => line + '\r\n').join('');
}
