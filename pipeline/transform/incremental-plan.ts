/**
 * Which models an incremental transform rebuilds, and how. Pure functions over the model graph.
 *
 * A model opts in with the header `-- incremental: domain_month`: the author promises that its rows
 * for one (domain, local_month) depend only on the inputs of that same domain-month. Such a model
 * is recomputed for the domain-months whose inputs changed and keeps its other rows. Every other
 * model (one that compares months, or reads something not sliced by domain-month) is rebuilt in
 * full from the already updated tables, so it comes out as a full build would.
 */
import { createHash } from 'node:crypto';
import { headerValue, ModelGraphError, tablesRead, type Model } from './model-graph.ts';

/** The header value that declares a model incremental by domain-month. */
export const INCREMENTAL_GRAIN = 'domain_month';

/**
 * Input tables an incremental model may read besides other incremental models: the build slices
 * `cdrs` to the changed domain-months and fingerprints the others per domain-month
 * (transform/build-manifest.ts).
 */
export const DOMAIN_MONTH_INPUTS: readonly string[] = [
  'cdrs',
  'domains',
  'domain_plans',
  'frozen_ratings',
  'plans',
  'plan_rules',
  'rates',
  'build_info',
];

export type ModelAction = 'full' | 'incremental' | 'keep';

export interface ModelPlan {
  name: string;
  action: ModelAction;
  /** Why it is rebuilt in full; empty for incremental and kept models. */
  reason: string;
}

/** What the previous build recorded of a model. */
export interface PreviousModel {
  sqlSha256: string;
  incremental: boolean;
}

/** The SQL's fingerprint: any edit (comments included) rebuilds the model in full. */
export function sqlSha256(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

/** True when the model declares `-- incremental: domain_month`; another value is a ModelGraphError. */
export function isIncrementalModel(model: Model): boolean {
  const v = headerValue(model.sql, 'incremental');
  if (v === undefined) return false;
  if (v !== INCREMENTAL_GRAIN)
    throw new ModelGraphError(
      `model ${model.name} (${model.path}): "-- incremental: ${v}" is not a grain the transform knows; use "-- incremental: ${INCREMENTAL_GRAIN}" or remove the line`,
    );
  return true;
}

/**
 * The action for every model, in build order. `fullReason` set: everything is rebuilt in full.
 * Otherwise an incremental model whose SQL is unchanged is recomputed for the changed domain-months
 * (or kept when there are none), unless something it reads was rebuilt in full.
 */
export function planModels(
  models: readonly Model[],
  opts: { fullReason: string | undefined; previous: ReadonlyMap<string, PreviousModel>; changedDomainMonths: number },
): ModelPlan[] {
  const names = new Set(models.map((m) => m.name));
  const plans = new Map<string, ModelPlan>();
  for (const m of models) {
    const full = (reason: string) => plans.set(m.name, { name: m.name, action: 'full', reason });
    if (opts.fullReason !== undefined) {
      full(opts.fullReason);
      continue;
    }
    if (!isIncrementalModel(m)) {
      full(`not incremental (no "-- incremental: ${INCREMENTAL_GRAIN}" header)`);
      continue;
    }
    const prev = opts.previous.get(m.name);
    if (!prev) {
      full('new model');
      continue;
    }
    if (prev.sqlSha256 !== sqlSha256(m.sql) || !prev.incremental) {
      full('SQL changed');
      continue;
    }
    const rebuiltDep = m.dependsOn.find((d) => plans.get(d)?.action === 'full');
    if (rebuiltDep) {
      full(`reads ${rebuiltDep}, rebuilt in full`);
      continue;
    }
    const foreign = tablesRead(m.sql).find((t) => !names.has(t) && !DOMAIN_MONTH_INPUTS.includes(t));
    if (foreign) {
      full(`reads ${foreign}, which is not sliced by domain-month`);
      continue;
    }
    plans.set(m.name, { name: m.name, action: opts.changedDomainMonths > 0 ? 'incremental' : 'keep', reason: '' });
  }
  return models.map((m) => plans.get(m.name)!);
}
