/**
 * Rate deck CSV: prefix,description,per_minute,initial_increment,subsequent_increment,minimum_seconds,connect_fee,effective_from
 *
 * `prefix` is an E.164 prefix written with its "+" (e.g. +1800, +44, +9122) or a short code
 * without "+" (e.g. 911) that only matches a dialled short code exactly as written. Keeping the two
 * apart stops "911" (emergency) from ever prefix-matching an Indian number +91 1...
 */
import { readFile } from 'node:fs/promises';
import { CsvError, parse, type Info } from 'csv-parse/sync';
import { parseMoney, toMoney6 } from '../util/money.ts';
import { ConfigError } from '../util/errors.ts';

export interface RateRow {
  prefix: string;
  description: string;
  /** DECIMAL(18,6) text. */
  perMinute: string;
  initialIncrement: number;
  subsequentIncrement: number;
  minimumSeconds: number;
  /** DECIMAL(18,6) text. */
  connectFee: string;
  /** YYYY-MM-DD: the first local date this price applies to. */
  effectiveFrom: string;
}

/** A price's columns, shared by a deck row and a plan's fixed rules (inbound, toll-free inbound). */
export const PRICE_COLUMNS = [
  'description',
  'per_minute',
  'initial_increment',
  'subsequent_increment',
  'minimum_seconds',
  'connect_fee',
] as const;

export const RATE_DECK_COLUMNS = ['prefix', ...PRICE_COLUMNS, 'effective_from'] as const;

/** A deck column's DuckDB type in the warehouse (a deck row and a plan's fixed rules alike). */
export const RATE_DECK_TYPES: Readonly<Record<(typeof RATE_DECK_COLUMNS)[number], string>> = {
  prefix: 'VARCHAR',
  description: 'VARCHAR',
  per_minute: 'DECIMAL(18,6)',
  initial_increment: 'INTEGER',
  subsequent_increment: 'INTEGER',
  minimum_seconds: 'INTEGER',
  connect_fee: 'DECIMAL(18,6)',
  effective_from: 'DATE',
};

/** `columns` with their types from {@link RATE_DECK_TYPES}, for a table shape. */
export function rateDeckColumnShapes(columns: readonly (typeof RATE_DECK_COLUMNS)[number][]): [string, string][] {
  return columns.map((c) => [c, RATE_DECK_TYPES[c]]);
}

/** A deck row's values in the order of {@link RATE_DECK_COLUMNS}, for inserting into a table with those columns. */
export function rateRowCells(r: RateRow): (string | number)[] {
  return [r.prefix, r.description, r.perMinute, r.initialIncrement, r.subsequentIncrement, r.minimumSeconds, r.connectFee, r.effectiveFrom];
}

/** One CSV record and the file line it starts on. */
interface DeckRecord {
  fields: string[];
  line: number;
}

/** What csv-parse yields per record with `info: true`. */
interface ParsedRecord {
  record: string[];
  info: Info;
}

/**
 * Reads deck CSV into records: a BOM, CRLF or mixed line ends, quoted fields (with commas, "" quotes
 * and line breaks), `#` comment lines and blank rows (also rows of only commas, as spreadsheets
 * export them) are all accepted. Values are trimmed. Malformed CSV is a ConfigError naming the
 * line and column.
 */
function readDeckRecords(text: string, source: string): DeckRecord[] {
  let header: string[] | undefined;
  let parsed: ParsedRecord[];
  try {
    // CRLF is folded first: csv-parse counts a CRLF inside a quoted field as two lines, which would
    // shift every later line number, and a file mixing LF and CRLF would otherwise split oddly.
    // The typings do not model `info: true`: each record (also in on_record) is { record, info }.
    parsed = parse(text.replace(/\r\n/g, '\n'), {
      bom: true,
      info: true,
      trim: true,
      comment: '#',
      comment_no_infix: true,
      skip_empty_lines: true,
      skip_records_with_empty_values: true,
      relax_column_count: true,
      // Kept so a syntax error further down can name its column.
      on_record: (r) => ((header ??= (r as unknown as ParsedRecord).record), r),
    }) as unknown as ParsedRecord[];
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    const line = typeof err['lines'] === 'number' ? err['lines'] : undefined;
    const index = typeof err['index'] === 'number' ? err['index'] : undefined;
    const column = index === undefined ? undefined : (header?.[index]?.toLowerCase() ?? `column ${index + 1}`);
    const where = line === undefined ? source : `${source} line ${line}`;
    throw new ConfigError(
      `${where}: ${column ?? 'the text'} is not valid CSV (${err.message}); wrap a value holding a comma, quote or line break in double quotes and write a quote inside it as ""`,
      column,
      { cause: err },
    );
  }
  return parsed.map(({ record, info }) => ({
    fields: record,
    // info.lines is where the record ends; a quoted line break moves its start back.
    line: info.lines - record.reduce((n, f) => n + (f.match(/\n/g)?.length ?? 0), 0),
  }));
}

function isValidDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** Parses and validates a deck; errors name the file, line and column and say what is expected. */
export function parseRateDeck(text: string, source = 'rate deck'): RateRow[] {
  const [head, ...body] = readDeckRecords(text, source);
  const header = (head?.fields ?? []).map((h) => h.toLowerCase());
  const missing = RATE_DECK_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length > 0) throw new ConfigError(`${source}: header lacks ${missing.join(', ')}; expected ${RATE_DECK_COLUMNS.join(',')}`);
  const col = (c: (typeof RATE_DECK_COLUMNS)[number]) => header.indexOf(c);
  const rows: RateRow[] = [];
  const seen = new Set<string>();
  for (const { fields: f, line } of body) {
    const at = (c: (typeof RATE_DECK_COLUMNS)[number]) => f[col(c)] ?? '';
    const where = `${source} line ${line}`;
    const prefix = at('prefix');
    if (!/^\+\d{1,15}$/.test(prefix) && !/^\d{2,8}$/.test(prefix)) {
      throw new ConfigError(
        `${where}: prefix ${JSON.stringify(prefix)} must be an E.164 prefix with "+" (e.g. +1800) or a short code of digits (e.g. 911)`,
        'prefix',
      );
    }
    const int = (c: 'initial_increment' | 'subsequent_increment' | 'minimum_seconds', min: number) => {
      const v = at(c);
      if (!/^\d+$/.test(v) || Number(v) < min)
        throw new ConfigError(`${where}: ${c} ${JSON.stringify(v)} must be a whole number >= ${min}`, c);
      return Number(v);
    };
    const dec = (c: 'per_minute' | 'connect_fee') => {
      try {
        if (parseMoney(at(c) === '' && c === 'connect_fee' ? '0' : at(c)) < 0n) throw new RangeError('negative');
      } catch {
        throw new ConfigError(
          `${where}: ${c} ${JSON.stringify(at(c))} must be a non-negative decimal with at most 6 decimals, e.g. 0.0125`,
          c,
        );
      }
      return toMoney6(at(c) === '' ? '0' : at(c));
    };
    const effectiveFrom = at('effective_from');
    if (!isValidDate(effectiveFrom))
      throw new ConfigError(`${where}: effective_from ${JSON.stringify(effectiveFrom)} must be a date YYYY-MM-DD`, 'effective_from');
    const key = `${prefix}@${effectiveFrom}`;
    if (seen.has(key)) throw new ConfigError(`${where}: prefix ${prefix} appears twice with effective_from ${effectiveFrom}`, 'prefix');
    seen.add(key);
    rows.push({
      prefix,
      description: at('description'),
      perMinute: dec('per_minute'),
      initialIncrement: int('initial_increment', 1),
      subsequentIncrement: int('subsequent_increment', 1),
      minimumSeconds: int('minimum_seconds', 0),
      connectFee: dec('connect_fee'),
      effectiveFrom,
    });
  }
  if (rows.length === 0) throw new ConfigError(`${source}: no rates (expected a header and at least one row)`);
  return rows;
}

export async function readRateDeck(path: string): Promise<{ text: string; rows: RateRow[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(
      `cannot read rate deck ${path}: ${err instanceof Error ? err.message : String(err)} (a relative plans.<id>.rateDeck is resolved against the config file's folder)`,
      { cause: err },
    );
  }
  return { text, rows: parseRateDeck(text, path) };
}
