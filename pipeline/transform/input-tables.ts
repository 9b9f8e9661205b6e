/**
 * Input tables of the warehouse (domains, plans, decks, frozen ratings) loaded only when their
 * content changed. Each load is fingerprinted (its DDL, columns and rows) and the fingerprints go
 * into the build manifest (`build_manifest`, keys `input:<table>`). An incremental build patches a
 * copy of the build that recorded them, so a table whose fingerprint is unchanged already holds
 * exactly these rows: creating it again would only cost statements and a rewrite at the checkpoint.
 */
import { createHash } from 'node:crypto';
import type { Db } from '../db/duckdb.ts';
import { insertRows, type Cell } from './insert-rows.ts';
import { columnNames, createTableSql, type TableShape } from './table-shape.ts';

/** The manifest key prefix of an input table's fingerprint. */
export const INPUT_KEY_PREFIX = 'input:';

/** What the build being patched loaded (fingerprint per table), and what this build loads. */
export interface InputReuse {
  previous: ReadonlyMap<string, string>;
  current: Map<string, string>;
}

/** The fingerprints recorded in a manifest's global entries. */
export function inputFingerprints(global: Readonly<Record<string, string>>): Map<string, string> {
  return new Map(
    Object.entries(global)
      .filter(([k]) => k.startsWith(INPUT_KEY_PREFIX))
      .map(([k, v]) => [k.slice(INPUT_KEY_PREFIX.length), v]),
  );
}

/** The manifest entries of this build's input loads. */
export function inputManifestEntries(reuse: InputReuse | undefined): Record<string, string> {
  return Object.fromEntries([...(reuse?.current ?? [])].map(([t, fp]) => [`${INPUT_KEY_PREFIX}${t}`, fp]));
}

/**
 * Creates the table of `shape` and inserts the rows, unless the build being patched loaded the
 * same shape with the same rows. Without `reuse` the table is always created.
 */
export async function loadInputTable(db: Db, shape: TableShape, rows: readonly Cell[][], reuse: InputReuse | undefined): Promise<void> {
  const ddl = createTableSql(shape);
  const columns = columnNames(shape);
  if (reuse) {
    const fp = createHash('sha256')
      .update(JSON.stringify([ddl, columns, rows]), 'utf8')
      .digest('hex');
    reuse.current.set(shape.table, fp);
    if (reuse.previous.get(shape.table) === fp) return;
  }
  await db.run(ddl);
  await insertRows(db, shape.table, columns, rows);
}
