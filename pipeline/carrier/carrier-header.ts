import { requiredHeaders, type CarrierColumnMap } from './carrier-formats.ts';

/** Delimiters a carrier file may use, in the order a tie is broken. */
export const DELIMITER_CANDIDATES = [',', '\t', ';', '|'] as const;

/** The header line's fields, split on `delimiter` outside double quotes (quotes removed, "" kept as one "). */
export function splitHeader(line: string, delimiter: string): string[] {
  const fields: string[] = [];
  let field = '';
  let inQuote = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '"') {
      if (inQuote && line[i + 1] === '"') {
        field += '"';
        i++;
      } else inQuote = !inQuote;
    } else if (ch === delimiter && !inQuote) {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  fields.push(field);
  return fields.map((f) => f.trim());
}

/** The candidate that occurs most often outside quotes in the header line (',' when none does). */
export function sniffDelimiter(line: string): string {
  let best: string = ',';
  let bestCount = 0;
  for (const d of DELIMITER_CANDIDATES) {
    const count = splitHeader(line, d).length - 1;
    if (count > bestCount) {
      best = d;
      bestCount = count;
    }
  }
  return best;
}

/** The header line as text: byte order mark and line end removed. */
export function cleanHeaderLine(line: string): string {
  return line
    .replace(/^\uFEFF/, '')
    .replace(/\r?\n?$/, '')
    .replace(/\r$/, '');
}

export interface HeaderMatch {
  /** Column index in the file of each mapped field. */
  index: Partial<Record<keyof CarrierColumnMap, number>>;
  /** Header names the format needs that the file lacks. */
  missing: string[];
  /** The file's own header names. */
  headers: string[];
}

/** Finds each mapped column in the file's header (case and surrounding blanks do not matter). */
export function matchHeader(headers: string[], columns: CarrierColumnMap): HeaderMatch {
  const folded = headers.map((h) => h.toLowerCase());
  const index: HeaderMatch['index'] = {};
  const missing: string[] = [];
  for (const { field, header } of requiredHeaders(columns)) {
    const at = folded.indexOf(header.trim().toLowerCase());
    if (at === -1) missing.push(header);
    else index[field] = at;
  }
  return { index, missing, headers };
}
