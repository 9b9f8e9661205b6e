/**
 * Rate deck CSV: prefix,description,per_minute,initial_increment,subsequent_increment,minimum_seconds,connect_fee,effective_from
 *
 * `prefix` is an E.164 prefix written with its "+" (e.g. +1800, +44, +9122) or a short code
 * without "+" (e.g. 911) that only matches a dialled short code exactly as written. Keeping the two
 * apart stops "911" (emergency) from ever prefix-matching an Indian number +91 1...
 */
import { readFile } from 'node:fs/promises';
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

export const RATE_DECK_COLUMNS = [
  'prefix',
  'description',
  'per_minute',
  'initial_increment',
  'subsequent_increment',
  'minimum_seconds',
  'connect_fee',
  'effective_from',
] as const;

/** Splits one CSV line; double quotes may wrap a field ("" is a quote inside it). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

function isValidDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** Parses and validates a deck; errors name the file, line and column and say what is expected. */
export function parseRateDeck(text: string, source = 'rate deck'): RateRow[] {
  const lines = text.split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.toLowerCase());
  const missing = RATE_DECK_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length > 0) throw new ConfigError(`${source}: header lacks ${missing.join(', ')}; expected ${RATE_DECK_COLUMNS.join(',')}`);
  const col = (c: (typeof RATE_DECK_COLUMNS)[number]) => header.indexOf(c);
  const rows: RateRow[] = [];
  const seen = new Set<string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const f = splitCsvLine(line);
    const at = (c: (typeof RATE_DECK_COLUMNS)[number]) => f[col(c)] ?? '';
    const where = `${source} line ${i + 1}`;
    const prefix = at('prefix');
    if (!/^\+\d{1,15}$/.test(prefix) && !/^\d{2,8}$/.test(prefix)) {
      throw new ConfigError(`${where}: prefix ${JSON.stringify(prefix)} must be an E.164 prefix with "+" (e.g. +1800) or a short code of digits (e.g. 911)`, 'prefix');
    }
    const int = (c: 'initial_increment' | 'subsequent_increment' | 'minimum_seconds', min: number) => {
      const v = at(c);
      if (!/^\d+$/.test(v) || Number(v) < min) throw new ConfigError(`${where}: ${c} ${JSON.stringify(v)} must be a whole number >= ${min}`, c);
      return Number(v);
    };
    const dec = (c: 'per_minute' | 'connect_fee') => {
      try {
        if (parseMoney(at(c) === '' && c === 'connect_fee' ? '0' : at(c)) < 0n) throw new RangeError('negative');
      } catch {
        throw new ConfigError(`${where}: ${c} ${JSON.stringify(at(c))} must be a non-negative decimal with at most 6 decimals, e.g. 0.0125`, c);
      }
      return toMoney6(at(c) === '' ? '0' : at(c));
    };
    const effectiveFrom = at('effective_from');
    if (!isValidDate(effectiveFrom)) throw new ConfigError(`${where}: effective_from ${JSON.stringify(effectiveFrom)} must be a date YYYY-MM-DD`, 'effective_from');
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
    throw new Error(`cannot read rate deck ${path}: ${err instanceof Error ? err.message : String(err)} (a relative plans.<id>.rateDeck is resolved against the config file's folder)`, { cause: err });
  }
  return { text, rows: parseRateDeck(text, path) };
}
