/**
 * Analyst queries: over warehouse.duckdb (READ_ONLY, so it runs beside a transform or the
 * scheduler), or, before the first transform, over views straight on the lake (cdrs, domains,
 * rejects). Either way the handle is locked down (read-only-sql.ts) before the analyst's SQL
 * reaches it: nothing under the data directory can change, and nothing there needs to be writable.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveProjectPath } from '../config/index.ts';
import { Db, sqlString } from '../db/duckdb.ts';
import { domainsDir, lakeDir, rejectsDir, warehousePath } from '../lake/index.ts';
import { createCdrsView } from './lake-views.ts';
import { loadSqlDir } from './model-graph.ts';
import { assertReadOnlySql, lockDown, ReadOnlyQueryError } from './read-only-sql.ts';
import { toQueryResult, type QueryResult } from './sql-output.ts';

export interface QueryOptions {
  dataDir: string;
  signal?: AbortSignal;
}

/**
 * Opens what `cdrpipe sql` queries, locked down: the warehouse read-only, or an in-memory
 * database with the lake views. `scratchDir` (outside the data directory) is where DuckDB may
 * spill; the caller removes it.
 */
export async function openQueryDb(dataDir: string, scratchDir: string): Promise<{ db: Db; source: 'warehouse' | 'lake' }> {
  const path = warehousePath(dataDir);
  // Spilling goes to scratchDir from the start: DuckDB's default would be beside the warehouse.
  const settings = { temp_directory: scratchDir, autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' };
  const source = existsSync(path) ? 'warehouse' : 'lake';
  const db = source === 'warehouse' ? await Db.open(path, { readOnly: true, settings }) : await Db.open(':memory:', { settings });
  try {
    if (source === 'lake') {
      await createCdrsView(db, dataDir);
      const domainsFile = join(domainsDir(dataDir), 'domains.parquet');
      if (existsSync(domainsFile)) await db.run(`CREATE VIEW domains AS SELECT * FROM read_parquet(${sqlString(domainsFile)})`);
      if (existsSync(rejectsDir(dataDir)) && readdirSync(rejectsDir(dataDir)).some((f) => f.endsWith('.parquet'))) {
        await db.run(
          `CREATE VIEW rejects AS SELECT * FROM read_parquet(${sqlString(join(rejectsDir(dataDir), '*.parquet'))}, union_by_name = true)`,
        );
      }
      for (const m of await loadSqlDir(resolveProjectPath('reports/macros'))) await db.exec(m.sql);
    }
    await lockDown(db, { readDirs: [lakeDir(dataDir)], scratchDir });
  } catch (err) {
    db.close();
    throw err;
  }
  return { db, source };
}

/** Runs the query's SELECT statements (the last one's result is returned); refuses anything else with ReadOnlyQueryError. */
export async function runQuery(opts: QueryOptions & { sql: string }): Promise<QueryResult & { source: 'warehouse' | 'lake' }> {
  const scratchDir = await mkdtemp(join(tmpdir(), 'cdrpipe-sql-'));
  try {
    const { db, source } = await openQueryDb(opts.dataDir, scratchDir);
    try {
      opts.signal?.throwIfAborted();
      await assertReadOnlySql(db, opts.sql);
      const reader = await db.connection.runAndReadAll(opts.sql);
      return { ...toQueryResult(reader), source };
    } catch (err) {
      if (err instanceof ReadOnlyQueryError) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      const hint = /file system operations are disabled/.test(msg)
        ? ` (cdrpipe sql reads only the lake, ${lakeDir(opts.dataDir)}, and the warehouse; it opens no other file or database)`
        : source === 'lake'
          ? ' (no warehouse yet: only the lake views `cdrs`, `domains` and `rejects` exist; run `cdrpipe transform` for the models)'
          : '';
      throw new Error(`query failed: ${msg}${hint}`, { cause: err });
    } finally {
      db.close();
    }
  } finally {
    await rm(scratchDir, { recursive: true, force: true });
  }
}
