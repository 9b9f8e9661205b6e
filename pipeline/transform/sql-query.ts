/**
 * Analyst queries: over warehouse.duckdb (READ_ONLY, so it runs beside a transform or the
 * scheduler), or, before the first transform, over views straight on the lake (cdrs, domains,
 * rejects).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { resolveProjectPath } from '../config/load-config.ts';
import { Db, sqlString } from '../db/duckdb.ts';
import { domainsDir, rejectsDir, warehousePath } from '../lake/layout.ts';
import { createCdrsView } from './lake-views.ts';
import { loadSqlDir } from './model-graph.ts';
import { toQueryResult, type QueryResult } from './sql-output.ts';

export interface QueryOptions {
  dataDir: string;
  signal?: AbortSignal;
}

/** Opens what `cdrpipe sql` queries: the warehouse read-only, or an in-memory database with the lake views. */
export async function openQueryDb(dataDir: string): Promise<{ db: Db; source: 'warehouse' | 'lake' }> {
  const path = warehousePath(dataDir);
  if (existsSync(path)) return { db: await Db.open(path, { readOnly: true }), source: 'warehouse' };
  const db = await Db.open(':memory:');
  try {
    await createCdrsView(db, dataDir);
    const domainsFile = join(domainsDir(dataDir), 'domains.parquet');
    if (existsSync(domainsFile)) await db.run(`CREATE VIEW domains AS SELECT * FROM read_parquet(${sqlString(domainsFile)})`);
    if (existsSync(rejectsDir(dataDir)) && readdirSync(rejectsDir(dataDir)).some((f) => f.endsWith('.parquet'))) {
      await db.run(`CREATE VIEW rejects AS SELECT * FROM read_parquet(${sqlString(join(rejectsDir(dataDir), '*.parquet'))}, union_by_name = true)`);
    }
    for (const m of await loadSqlDir(resolveProjectPath('reports/macros'))) await db.exec(m.sql);
  } catch (err) {
    db.close();
    throw err;
  }
  return { db, source: 'lake' };
}

/** Runs one query (the last statement's result is returned). */
export async function runQuery(opts: QueryOptions & { sql: string }): Promise<QueryResult & { source: 'warehouse' | 'lake' }> {
  const { db, source } = await openQueryDb(opts.dataDir);
  try {
    opts.signal?.throwIfAborted();
    const reader = await db.connection.runAndReadAll(opts.sql);
    return { ...toQueryResult(reader), source };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const hint = source === 'lake' ? ' (no warehouse yet: only the lake views `cdrs`, `domains` and `rejects` exist; run `cdrpipe transform` for the models)' : '';
    throw new Error(`query failed: ${msg}${hint}`);
  } finally {
    db.close();
  }
}
