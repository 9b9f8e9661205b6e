/**
 * Tables an incremental build reloads whole (its inputs: domains, plans, rates, ...) are kept as
 * they were when the reload gives the same table: a replaced table is written again by the
 * checkpoint that publishes the build, while one the build left alone costs nothing there.
 */
import type { Db } from '../db/duckdb.ts';

const PREVIOUS = '__previous';

async function tableSql(db: Db, name: string): Promise<string | undefined> {
  const row = await db.one<{ sql: string }>(
    `SELECT sql FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = $1`,
    [name],
  );
  return row?.sql;
}

/**
 * Runs `load`, which (re)creates the main tables `names`; each one whose definition and rows come
 * out equal to the table it replaces is then put back as it was (same rows, same order: the
 * loaders are deterministic). Without `enabled`, just runs `load`.
 */
export async function keepUnchangedTables(db: Db, names: readonly string[], load: () => Promise<void>, enabled = true): Promise<void> {
  if (!enabled) return load();
  const before = new Map<string, string>();
  for (const n of names) {
    const sql = await tableSql(db, n);
    if (sql === undefined) continue;
    await db.run(`ALTER TABLE main.${n} RENAME TO ${n}${PREVIOUS}`);
    before.set(n, sql.replace(`${n}${PREVIOUS}`, n));
  }
  try {
    await load();
  } catch (err) {
    for (const n of before.keys()) {
      await db.run(`DROP TABLE IF EXISTS main.${n}`);
      await db.run(`ALTER TABLE main.${n}${PREVIOUS} RENAME TO ${n}`);
    }
    throw err;
  }
  for (const [n, sqlBefore] of before) {
    const old = `main.${n}${PREVIOUS}`;
    let same = (await tableSql(db, n)) === sqlBefore;
    if (same) {
      const diff = await db.one<{ n: number }>(
        `SELECT count(*)::INTEGER AS n FROM ((SELECT * FROM main.${n} EXCEPT ALL SELECT * FROM ${old}) UNION ALL (SELECT * FROM ${old} EXCEPT ALL SELECT * FROM main.${n}))`,
      );
      same = Number(diff?.n ?? 1) === 0;
    }
    if (same) {
      await db.run(`DROP TABLE main.${n}`);
      await db.run(`ALTER TABLE ${old} RENAME TO ${n}`);
    } else {
      await db.run(`DROP TABLE ${old}`);
    }
  }
}
