/**
 * The shape of a table the transform loads from config or state (not a model): its columns with
 * their DuckDB types and its primary key. The CREATE statement and the column list an insert takes
 * are both derived from it, so the two cannot disagree.
 */
import { sqlIdent } from '../db/duckdb.ts';

/** A column's name and its DuckDB type. */
export type ColumnShape = readonly [name: string, type: string];

/** A loaded table's name, columns (in insert order) and primary key. */
export interface TableShape {
  readonly table: string;
  readonly columns: readonly ColumnShape[];
  readonly primaryKey?: readonly string[];
}

/** `CREATE OR REPLACE TABLE` for `shape`. */
export function createTableSql(shape: TableShape): string {
  const parts = shape.columns.map(([name, type]) => `${sqlIdent(name)} ${type}`);
  if (shape.primaryKey) parts.push(`PRIMARY KEY (${shape.primaryKey.map(sqlIdent).join(', ')})`);
  return `CREATE OR REPLACE TABLE ${sqlIdent(shape.table)} (${parts.join(', ')})`;
}

/** The column names of `shape`, in insert order. */
export function columnNames(shape: TableShape): string[] {
  return shape.columns.map(([name]) => name);
}
