/**
 * The changed slices of the warehouse, as data tests read them: scratch schemas, found first for
 * unqualified names (search_path), so a test's SQL runs unchanged. Other tables resolve to the
 * warehouse's own.
 * - `incr_test_slice`: `cdrs` is the lake files of the changed domain-months, and every incremental
 *   model is its rows of those domain-months (the temp table `incr_changed`). For a model recomputed
 *   in this build those rows are the ones it just inserted, still held in the build's delta schema,
 *   so a test reads them without scanning the whole table.
 * - `incr_test_domains`: every incremental model is its rows of the domains that have a changed
 *   domain-month, all months (tests of the `domain` grain, transform/test-scope.ts).
 */
import type { Db } from '../db/duckdb.ts';
import { changedDomainsFilter } from './build-models.ts';
import type { ModelPlan } from './incremental-plan.ts';
import { EMPTY_CDRS_SELECT } from './lake-views.ts';

/** The scratch schema of the changed domain-months. */
export const TEST_SLICE_SCHEMA = 'incr_test_slice';
/** The scratch schema of the changed domains. */
export const TEST_DOMAINS_SCHEMA = 'incr_test_domains';

/**
 * Creates the slice schemas; `slice` is the FROM item of the changed lake files (undefined: none),
 * `models` this build's model plans (incremental and kept models are cut), `delta` the schema where
 * the build left each recomputed model's new rows (undefined: cut from the warehouse's tables).
 */
export async function createTestSlice(
  db: Db,
  opts: { slice: string | undefined; models: readonly ModelPlan[]; delta?: string | undefined },
): Promise<void> {
  const s = TEST_SLICE_SCHEMA;
  const d = TEST_DOMAINS_SCHEMA;
  await dropTestSlice(db);
  await db.run(`CREATE SCHEMA ${s}`);
  await db.run(`CREATE SCHEMA ${d}`);
  await db.run(`CREATE VIEW ${s}.cdrs AS ${opts.slice ? `SELECT * FROM ${opts.slice}` : EMPTY_CDRS_SELECT}`);
  const inDomains = await changedDomainsFilter(db, 't.domain');
  for (const m of opts.models) {
    if (m.action === 'full') continue;
    await db.run(
      opts.delta !== undefined && m.action === 'incremental'
        ? `CREATE VIEW ${s}.${m.name} AS SELECT * FROM ${opts.delta}.${m.name}`
        : `CREATE VIEW ${s}.${m.name} AS SELECT t.* FROM main.${m.name} AS t WHERE ${inDomains} AND EXISTS (SELECT 1 FROM temp.main.incr_changed AS k WHERE k.domain = t.domain AND k.local_month = t.local_month)`,
    );
    await db.run(`CREATE VIEW ${d}.${m.name} AS SELECT t.* FROM main.${m.name} AS t WHERE ${inDomains}`);
  }
}

/** Drops the slice schemas (a published warehouse holds no trace of them). */
export async function dropTestSlice(db: Db): Promise<void> {
  await db.run(`RESET search_path`);
  await db.run(`DROP SCHEMA IF EXISTS ${TEST_SLICE_SCHEMA} CASCADE`);
  await db.run(`DROP SCHEMA IF EXISTS ${TEST_DOMAINS_SCHEMA} CASCADE`);
}
