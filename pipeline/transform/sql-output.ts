/**
 * Query results as a terminal table, CSV, JSON lines or an Arrow IPC stream. Arrow keeps types:
 * integers stay integers (BIGINT as Int64, HUGEINT as Decimal(38,0)), DECIMAL stays Decimal128 with
 * its scale (exact money), timestamps are microseconds (TIMESTAMPTZ marked UTC), DATE is DateDay.
 */
import { DuckDBDecimalType, DuckDBTypeId, type DuckDBResultReader } from '@duckdb/node-api';
import { numericCell, toCsv, type CsvValue } from '../util/csv.ts';
import {
  Bool,
  DateDay,
  Decimal,
  Float64,
  Int32,
  Int64,
  makeData,
  makeVector,
  Table,
  tableToIPC,
  TimestampMicrosecond,
  Utf8,
  vectorFromArray,
  type Vector,
} from 'apache-arrow';

export const SQL_FORMATS = ['table', 'csv', 'json', 'arrow'] as const;
export type SqlFormat = (typeof SQL_FORMATS)[number];

export interface QueryResult {
  columns: string[];
  /** DuckDB type names, e.g. DECIMAL(18,6). */
  types: string[];
  /** JSON-safe rows (DECIMAL and BIGINT as text). */
  rows: Record<string, unknown>[];
  /** Raw DuckDB values per column, for typed output (Arrow). */
  raw: unknown[][];
  typeInfo: { typeId: DuckDBTypeId; scale?: number; width?: number }[];
}

export function toQueryResult(reader: DuckDBResultReader): QueryResult {
  const columns = reader.columnNames();
  const types = reader.columnTypes();
  return {
    columns,
    types: types.map((t) => t.toString()),
    rows: reader.getRowObjectsJson() as Record<string, unknown>[],
    raw: reader.getColumns() as unknown[][],
    typeInfo: types.map((t) =>
      t instanceof DuckDBDecimalType ? { typeId: t.typeId, scale: t.scale, width: t.width } : { typeId: t.typeId },
    ),
  };
}

const NUMERIC_TYPE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|DOUBLE|FLOAT|DECIMAL)\b/;

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** A plain text table, right-aligning numbers; long cells are cut at `maxWidth`. */
export function formatTable(result: Pick<QueryResult, 'columns' | 'types' | 'rows'>, maxWidth = 48): string {
  const { columns, rows } = result;
  const numeric = result.types.map((t) => NUMERIC_TYPE.test(t));
  const cells = rows.map((r) =>
    columns.map((c) => {
      const s = r[c] === null || r[c] === undefined ? 'NULL' : cellText(r[c]);
      return s.length > maxWidth ? s.slice(0, maxWidth - 1) + '…' : s;
    }),
  );
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)];
  out.push(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
  return out.join('\n') + '\n';
}

/** A cell as the CSV writer wants it: numbers of numeric columns as numbers, everything else as text. */
function csvCell(v: unknown, numeric: boolean): CsvValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return v;
  if (numeric && typeof v === 'number') return v;
  const text = cellText(v);
  // Only text that really is a number passes unescaped: '-Infinity' or 'NaN' stays text.
  return numeric ? numericCell(text) : text;
}

/**
 * RFC 4180 CSV with CRLF line ends. Formula-safe by default (text cells a spreadsheet would run get
 * a leading '); numeric columns are written as numbers. `raw` writes text exactly as stored.
 */
export function formatCsv(result: Pick<QueryResult, 'columns' | 'types' | 'rows'>, opts: { raw?: boolean } = {}): string {
  const numeric = result.columns.map((_, i) => NUMERIC_TYPE.test(result.types[i] ?? ''));
  const rows = result.rows.map((r) => result.columns.map((c, i) => csvCell(r[c], numeric[i]!)));
  return toCsv(result.columns, rows, { formulaSafe: !opts.raw });
}

/** One JSON object per line (NDJSON); DECIMAL and BIGINT stay exact as strings. */
export function formatJson(result: Pick<QueryResult, 'columns' | 'rows'>): string {
  return result.rows.map((r) => JSON.stringify(r)).join('\n') + (result.rows.length ? '\n' : '');
}

const T = DuckDBTypeId;

function nullBitmap(values: unknown[]): { bitmap: Uint8Array; nullCount: number } {
  const bitmap = new Uint8Array(Math.ceil(values.length / 8) || 1);
  let nullCount = 0;
  values.forEach((v, i) => {
    if (v === null || v === undefined) nullCount++;
    else bitmap[i >> 3]! |= 1 << (i & 7);
  });
  return { bitmap, nullCount };
}

/** Little-endian two's complement 128-bit words for Decimal128. */
function decimalWords(values: (bigint | null)[]): Uint32Array {
  const words = new Uint32Array(values.length * 4);
  const mask = (1n << 128n) - 1n;
  values.forEach((v, i) => {
    let x = (v ?? 0n) & mask;
    for (let w = 0; w < 4; w++) {
      words[i * 4 + w] = Number(x & 0xffffffffn);
      x >>= 32n;
    }
  });
  return words;
}

function columnVector(values: unknown[], info: QueryResult['typeInfo'][number], jsonValues: unknown[]): Vector {
  const length = values.length;
  const { bitmap, nullCount } = nullBitmap(values);
  const isNull = (v: unknown) => v === null || v === undefined;
  switch (info.typeId) {
    case T.BOOLEAN:
      return vectorFromArray(
        values.map((v) => (isNull(v) ? null : Boolean(v))),
        new Bool(),
      );
    case T.TINYINT:
    case T.SMALLINT:
    case T.INTEGER:
    case T.UTINYINT:
    case T.USMALLINT:
      return makeVector(
        makeData({
          type: new Int32(),
          length,
          nullCount,
          nullBitmap: bitmap,
          data: Int32Array.from(values, (v) => (isNull(v) ? 0 : Number(v))),
        }),
      );
    case T.UINTEGER:
    case T.BIGINT:
      return makeVector(
        makeData({
          type: new Int64(),
          length,
          nullCount,
          nullBitmap: bitmap,
          data: BigInt64Array.from(values, (v) => (isNull(v) ? 0n : BigInt(v as bigint | number))),
        }),
      );
    case T.HUGEINT:
    case T.UBIGINT:
      return makeVector(
        makeData({
          type: new Decimal(0, 38, 128),
          length,
          nullCount,
          nullBitmap: bitmap,
          data: decimalWords(values.map((v) => (isNull(v) ? null : BigInt(v as bigint)))),
        }),
      );
    case T.DECIMAL: {
      const scale = info.scale ?? 0;
      const unscaled = values.map((v) => (isNull(v) ? null : (v as { value: bigint }).value));
      return makeVector(
        makeData({
          type: new Decimal(scale, Math.max(info.width ?? 38, 1), 128),
          length,
          nullCount,
          nullBitmap: bitmap,
          data: decimalWords(unscaled),
        }),
      );
    }
    case T.FLOAT:
    case T.DOUBLE:
      return makeVector(
        makeData({
          type: new Float64(),
          length,
          nullCount,
          nullBitmap: bitmap,
          data: Float64Array.from(values, (v) => (isNull(v) ? 0 : Number(v))),
        }),
      );
    case T.TIMESTAMP:
    case T.TIMESTAMP_TZ:
      return makeVector(
        makeData({
          type: new TimestampMicrosecond(info.typeId === T.TIMESTAMP_TZ ? 'UTC' : null),
          length,
          nullCount,
          nullBitmap: bitmap,
          data: BigInt64Array.from(values, (v) => (isNull(v) ? 0n : (v as { micros: bigint }).micros)),
        }),
      );
    case T.DATE:
      return makeVector(
        makeData({
          type: new DateDay(),
          length,
          nullCount,
          nullBitmap: bitmap,
          data: Int32Array.from(values, (v) => (isNull(v) ? 0 : (v as { days: number }).days)),
        }),
      );
    default:
      return vectorFromArray(
        jsonValues.map((v) => (isNull(v) ? null : typeof v === 'string' ? v : JSON.stringify(v))),
        new Utf8(),
      );
  }
}

/** An Arrow IPC stream (what pandas.read_ipc / polars.read_ipc_stream / pyarrow.ipc.open_stream read). */
export function formatArrow(result: QueryResult): Uint8Array {
  const vectors: Record<string, Vector> = {};
  result.columns.forEach((c, i) => {
    const json = result.rows.map((r) => r[c]);
    let name = c;
    for (let k = 2; name in vectors; k++) name = `${c}_${k}`;
    vectors[name] = columnVector(result.raw[i] ?? [], result.typeInfo[i]!, json);
  });
  return tableToIPC(new Table(vectors), 'stream');
}
