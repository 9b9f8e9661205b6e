/**
 * Billing's own rating over whatever rows a `cdrs` table or view holds, without building the
 * warehouse: the macros, the rating inputs (domains, plans, rates) and the models calls,
 * rating_plans and rated_calls of reports/, in one DuckDB session the caller owns. The alerts
 * evaluation rates a tick's calls with it, so an alert's price is the bill's price.
 */
import { join } from 'node:path';
import type { Db } from '../db/duckdb.ts';
import { resolveProjectPath, type StageContext } from '../config/index.ts';
import { loadSqlDir } from './model-graph.ts';
import { currentPlanSnapshots, type PlanSnapshot } from './plan-registry.ts';
import { loadDomains, loadPlans, loadRatingInputs } from './warehouse-inputs.ts';

/** The models a rating needs, in build order. */
const RATING_MODELS = ['calls', 'rating_plans', 'rated_calls'] as const;

export interface RateCallsOptions extends Pick<StageContext, 'dataDir' | 'config' | 'logger' | 'clock'> {
  /** Where the SQL lives; defaults to the project's reports/ folders. */
  modelsDir?: string;
  macrosDir?: string;
  /**
   * Price every call as if the monthly included minutes were used up: a call's price then
   * depends on that call alone, not on every call before it in the month.
   */
  ignoreIncludedMinutes?: boolean;
  /** Load only the domains the `cdrs` rows belong to (their time zones and plans), not every domain of the lake. */
  onlyCdrDomains?: boolean;
  /** The domains the `cdrs` rows belong to, when the caller knows them: `cdrs` is then not scanned for them. */
  cdrDomains?: readonly string[];
  /** The caller has already loaded the macros of `macrosDir` into `db`: do not load them again. */
  macrosLoaded?: boolean;
}

export interface RateCallsResult {
  /** Set when a plan's rate deck could not be read: every deck-rated call is then left unpriced. */
  deckProblem: string | undefined;
}

/**
 * Creates the tables `calls`, `rating_plans` and `rated_calls` (and their inputs) in `db` from
 * its `cdrs`. A deck that cannot be read is not fatal here: the plans are loaded without deck
 * rows, and the caller decides what an unpriced call costs.
 */
export async function rateCalls(db: Db, opts: RateCallsOptions): Promise<RateCallsResult> {
  const modelsDir = opts.modelsDir ?? resolveProjectPath('reports/models');
  const macrosDir = opts.macrosDir ?? resolveProjectPath('reports/macros');
  if (!opts.macrosLoaded) for (const m of await loadSqlDir(macrosDir)) await db.exec(m.sql);
  let deckProblem: string | undefined;
  let snapshots: PlanSnapshot[];
  try {
    snapshots = await currentPlanSnapshots(opts.config);
  } catch (err) {
    deckProblem = err instanceof Error ? err.message : String(err);
    snapshots = Object.entries(opts.config.plans).map(([planId, plan]) => ({
      planId,
      planVersion: plan.version,
      plan,
      deckCsv: '',
      deckRows: [],
      contentSha256: '',
    }));
  }
  const domains = await loadDomains(db, opts.dataDir, opts.config, opts.logger, {
    onlyCdrDomains: opts.onlyCdrDomains,
    ...(opts.cdrDomains ? { cdrDomains: opts.cdrDomains } : {}),
  });
  await loadPlans(db, snapshots);
  await loadRatingInputs(db, opts.config, domains, [], opts.clock.now());
  if (opts.ignoreIncludedMinutes) await db.run(`UPDATE domain_plans SET included_minutes = 0`);
  const models = await loadSqlDir(modelsDir);
  for (const name of RATING_MODELS) {
    const model = models.find((f) => f.name === name);
    if (!model) throw new Error(`rating: model ${name} not found in ${join(modelsDir, `${name}.sql`)}`);
    await db.run(`CREATE OR REPLACE TABLE ${name} AS\n${model.sql.replace(/;\s*$/, '')}\n`);
  }
  return { deckProblem };
}
