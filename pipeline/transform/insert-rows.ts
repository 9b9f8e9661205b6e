import type { Db } from '../db/duckdb.ts';
import { sqlIdent } from '../db/duckdb.ts';

export type Cell = string | number | boolean | null;

/**
 * Inserts rows with bound parameters, a few hundred at a time. Values are cast by the target
 * column's type, so decimals travel as text and never as JS numbers.
 */
export async function insertRows(db: Db, table: string, columns: readonly string[], rows: readonly Cell[][], chunk = 200): Promise<void> {
  for (let i = 0; i < rows.length; i += chunk) {
    const part = rows.slice(i, i + chunk);
    const params: Cell[] = [];
    const tuples = part.map((row) => {
      if (row.length !== columns.length)
        throw new Error(`insert into ${table}: row has ${row.length} values for ${columns.length} columns`);
      return '(' + row.map((v) => (params.push(v), `$${params.length}`)).join(', ') + ')';
    });
    await db.run(`INSERT INTO ${sqlIdent(table)} (${columns.map(sqlIdent).join(', ')}) VALUES ${tuples.join(', ')}`, params);
  }
}
