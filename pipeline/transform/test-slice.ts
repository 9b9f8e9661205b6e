/**
 * The changed slice of the warehouse, as data tests read it: a scratch schema, found first for
 * unqualified names (search_path), where `cdrs` is the lake files of the changed domain-months
 * and every incremental model is a view of its rows for those domain-months (the temp table
 * `incr_changed`). Other tables resolve to the warehouse's own. A test's SQL runs unchanged.
 */
import type { Db } from '../db/duckdb.ts';
import type { ModelPlan } from './incremental-plan.ts';
import { EMPTY_CDRS_SELECT } from './lake-views.ts';

/** The scratch schema's name. */
export const TEST_SLICE_SCHEMA = 'incr_test_slice';

/**
 * Creates the slice schema; `slice` is the FROM item of the changed lake files (undefined: none),
 * `models` this build's model plans (incremental and kept models are cut to the changed domain-months).
 */
export async function createTestSlice(db: Db, opts: { slice: string | undefined; models: readonly ModelPlan[] }): Promise<void> {
  const s = TEST_SLICE_SCHEMA;
  await db.run(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await db.run(`CREATE SCHEMA ${s}`);
  await db.run(`CREATE VIEW ${s}.cdrs AS ${opts.slice ? `SELECT * FROM ${opts.slice}` : EMPTY_CDRS_SELECT}`);
  for (const m of opts.models) {
    if (m.action === 'full') continue;
    await db.run(
      `CREATE VIEW ${s}.${m.name} AS SELECT t.* FROM main.${m.name} AS t SEMI JOIN temp.main.incr_changed AS k ON k.domain = t.domain AND k.local_month = t.local_month`,
    );
  }
}

/** Drops the slice schema (a published warehouse holds no trace of it). */
export async function dropTestSlice(db: Db): Promise<void> {
  await db.run(`RESET search_path`);
  await db.run(`DROP SCHEMA IF EXISTS ${TEST_SLICE_SCHEMA} CASCADE`);
}
