import type { Db } from '../db/duckdb.ts';
import { sqlIdent } from '../db/duckdb.ts';

export type Cell = string | number | boolean | null;

/** How a column's cells travel in JSON: as the type a bound parameter of that JS type gets. */
function jsonColumnType(rows: readonly Cell[][], col: number): 'VARCHAR' | 'DOUBLE' | 'BOOLEAN' | undefined {
  let type: 'VARCHAR' | 'DOUBLE' | 'BOOLEAN' | undefined;
  for (const row of rows) {
    const v = row[col];
    if (v === null) continue;
    if (typeof v === 'number' && !Number.isFinite(v)) return undefined;
    const t = typeof v === 'string' ? 'VARCHAR' : typeof v === 'number' ? 'DOUBLE' : 'BOOLEAN';
    if (type !== undefined && type !== t) return undefined;
    type = t;
  }
  return type ?? 'VARCHAR';
}

/**
 * Inserts rows. Values are cast by the target column's type, so decimals travel as text and never
 * as JS numbers. The rows travel as one JSON parameter, each column typed as a bound parameter of
 * its JS type would be: a statement with thousands of bound parameters cost more than the rest of
 * the table's load. A column mixing JS types (or holding NaN) goes by bound parameters instead, a
 * few hundred rows at a time.
 */
export async function insertRows(db: Db, table: string, columns: readonly string[], rows: readonly Cell[][], chunk = 200): Promise<void> {
  for (const row of rows)
    if (row.length !== columns.length) throw new Error(`insert into ${table}: row has ${row.length} values for ${columns.length} columns`);
  if (rows.length === 0) return;
  const types = columns.map((_, i) => jsonColumnType(rows, i));
  const target = `${sqlIdent(table)} (${columns.map(sqlIdent).join(', ')})`;
  if (types.every((t) => t !== undefined)) {
    const structure = JSON.stringify(Object.fromEntries(types.map((t, i) => [`c${i}`, t])));
    await db.run(
      `INSERT INTO ${target} SELECT ${columns.map((_, i) => `r.c${i}`).join(', ')}
       FROM (SELECT unnest(from_json($1::JSON, '[${structure}]'), recursive := true)) AS r`,
      [JSON.stringify(rows.map((row) => Object.fromEntries(row.map((v, i) => [`c${i}`, v]))))],
    );
    return;
  }
  for (let i = 0; i < rows.length; i += chunk) {
    const part = rows.slice(i, i + chunk);
    const params: Cell[] = [];
    const tuples = part.map((row) => '(' + row.map((v) => (params.push(v), `$${params.length}`)).join(', ') + ')');
    await db.run(`INSERT INTO ${target} VALUES ${tuples.join(', ')}`, params);
  }
}
