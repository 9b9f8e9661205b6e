/**
 * Runs the models of one build as planned (transform/incremental-plan.ts):
 * - full: `CREATE OR REPLACE TABLE` from the whole of its inputs;
 * - incremental: the model's own SQL, evaluated in a scratch schema where `cdrs` is the slice of
 *   the lake that feeds the changed domain-months and every incremental model upstream is already
 *   cut to those domain-months; its rows for the changed domain-months (the temp table
 *   `incr_changed`) are then deleted from the warehouse table and replaced by the new ones;
 * - keep: nothing to do.
 * The scratch schema is found first for unqualified names (search_path), so a model's SQL runs
 * unchanged in both modes.
 */
import { sqlString, type Db } from '../db/duckdb.ts';
import { isRowOrderFree, type Model } from './model-graph.ts';
import type { ModelPlan } from './incremental-plan.ts';
import { EMPTY_CDRS_SELECT } from './lake-views.ts';

/** The scratch schema of an incremental build: the slice's `cdrs`, and each recomputed model's new rows. */
export const MODEL_DELTA_SCHEMA = 'incr_delta';
const DELTA = MODEL_DELTA_SCHEMA;

export interface BuiltModel {
  name: string;
  rows: number;
  dependsOn: string[];
}

function body(m: Model): string {
  return m.sql.replace(/;\s*$/, '');
}

/** Tables of the warehouse being patched that have both `domain` and `local_month` columns (one catalog query). */
async function tablesKeyedByDomainMonth(db: Db): Promise<Set<string>> {
  const rows = await db.all<{ t: string }>(
    `SELECT table_name AS t FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = 'main'
     GROUP BY table_name HAVING count(*) FILTER (WHERE column_name IN ('domain', 'local_month')) = 2`,
  );
  return new Set(rows.map((r) => r.t));
}

/**
 * Builds every model; `slice` is the FROM item of the changed lake files (undefined: none).
 * Returns row counts per model, and plans adjusted where a model turned out not to be sliceable.
 * With `keepDelta`, a successful build leaves MODEL_DELTA_SCHEMA (each recomputed model's new rows)
 * for the data tests; the caller drops it with dropModelDelta.
 */
export async function buildModels(
  db: Db,
  models: readonly Model[],
  plans: readonly ModelPlan[],
  opts: {
    slice: string | undefined;
    signal?: AbortSignal;
    onModel?: (name: string, ms: number, phases: Record<string, number>) => void;
    keepDelta?: boolean;
  },
): Promise<{ builds: BuiltModel[]; plans: ModelPlan[]; delta: string | undefined }> {
  const planned = new Map(plans.map((p) => [p.name, { ...p }]));
  const anyIncremental = plans.some((p) => p.action === 'incremental');
  if (anyIncremental) {
    await db.run(`DROP SCHEMA IF EXISTS ${DELTA} CASCADE`);
    await db.run(`CREATE SCHEMA ${DELTA}`);
    await db.run(`CREATE VIEW ${DELTA}.cdrs AS ${opts.slice ? `SELECT * FROM ${opts.slice}` : EMPTY_CDRS_SELECT}`);
  }
  const keyed = anyIncremental ? await tablesKeyedByDomainMonth(db) : new Set<string>();
  const inDomains = anyIncremental ? await changedDomainsFilter(db, 't.domain') : 'false';
  const builds: BuiltModel[] = [];
  let ok = false;
  // The search path is set only when it changes (full and incremental models take turns).
  let path: 'main' | 'delta' = 'main';
  const usePath = async (want: 'main' | 'delta') => {
    if (path === want) return;
    await db.run(want === 'delta' ? `SET search_path = '${DELTA},main'` : `RESET search_path`);
    path = want;
  };
  try {
    for (const m of models) {
      opts.signal?.throwIfAborted();
      const plan = planned.get(m.name)!;
      const t0 = performance.now();
      const phases: Record<string, number> = {};
      if (plan.action === 'incremental') {
        if (!keyed.has(m.name)) {
          plan.action = 'full';
          plan.reason = 'declared incremental but has no domain and local_month columns';
        } else if (m.dependsOn.some((d) => planned.get(d)?.action === 'full')) {
          plan.action = 'full';
          plan.reason = `reads ${m.dependsOn.find((d) => planned.get(d)?.action === 'full')}, rebuilt in full`;
        }
      }
      const orderFree = plan.action !== 'keep' && isRowOrderFree(m);
      try {
        if (orderFree) await db.run(`SET preserve_insertion_order = false`);
        if (plan.action === 'full') {
          await usePath('main');
          await db.run(`CREATE OR REPLACE TABLE main.${m.name} AS\n${body(m)}\n`);
        } else if (plan.action === 'incremental') {
          await usePath('delta');
          await db.run(
            `CREATE TABLE ${DELTA}.${m.name} AS SELECT x.* FROM (\n${body(m)}\n) AS x SEMI JOIN temp.main.incr_changed AS k ON k.domain = x.domain AND k.local_month = x.local_month`,
          );
          phases.compute = performance.now() - t0;
          await db.run(
            `DELETE FROM main.${m.name} AS t WHERE ${inDomains} AND EXISTS (SELECT 1 FROM temp.main.incr_changed AS k WHERE k.domain = t.domain AND k.local_month = t.local_month)`,
          );
          phases.delete = performance.now() - t0 - phases.compute;
          await db.run(`INSERT INTO main.${m.name} SELECT * FROM ${DELTA}.${m.name}`);
        }
      } catch (err) {
        throw new Error(`model ${m.name} (${m.path}) failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      } finally {
        if (orderFree) await db.run(`RESET preserve_insertion_order`);
      }
      const n = await db.one<{ n: number }>(`SELECT count(*)::BIGINT AS n FROM main.${m.name}`);
      builds.push({ name: m.name, rows: Number(n?.n ?? 0), dependsOn: m.dependsOn });
      opts.onModel?.(m.name, performance.now() - t0, phases);
    }
    ok = true;
  } finally {
    await db.run(`RESET search_path`);
    if (anyIncremental && !(ok && opts.keepDelta === true)) await dropModelDelta(db);
  }
  const kept = anyIncremental && opts.keepDelta === true;
  return { builds, plans: models.map((m) => planned.get(m.name)!), delta: kept ? DELTA : undefined };
}

/**
 * `<column> IN (<the domains of incr_changed>)`, the domains as constants ('false' when none): a scan
 * filters on them and skips the row groups of other domains, which a join with incr_changed does not.
 */
export async function changedDomainsFilter(db: Db, column: string): Promise<string> {
  const rows = await db.all<{ domain: string }>(`SELECT DISTINCT domain FROM temp.main.incr_changed ORDER BY domain`);
  return rows.length > 0 ? `list_contains([${rows.map((r) => sqlString(r.domain)).join(', ')}], ${column})` : 'false';
}

/** Drops the delta schema an incremental build left (a published warehouse holds no trace of it). */
export async function dropModelDelta(db: Db): Promise<void> {
  await db.run(`DROP SCHEMA IF EXISTS ${DELTA} CASCADE`);
}
