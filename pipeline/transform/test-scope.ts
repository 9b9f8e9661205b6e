/**
 * Which data tests an incremental build runs on the changed domain-months only. Pure functions.
 *
 * A test opts in with the header `-- incremental: domain_month`: the author promises that each row
 * it selects comes from the rows of one domain-month of the tables it reads (a row-level check, a
 * check per (domain, local_month), or a uniqueness check whose key includes both), and that a lake
 * row breaks a `cdrs` test on its own. Then the rows it selects in the domain-months that did not
 * change are those it selected there in the previous build. When that build's result was a pass,
 * the rows it selects now are exactly those it selects on the slice: `cdrs` cut to the lake files
 * of the changed domain-months, every incremental model cut to those domain-months. The count and
 * the ordered sample are then the same as on the whole warehouse.
 *
 * A test runs on the whole warehouse in a full build, and in an incremental build when it has no
 * header, is new or changed, did not pass in the previous build, or reads a model rebuilt in full
 * or a table that is not an input of domain-months.
 */
import { headerValue, ModelGraphError, tablesRead, type SqlFile } from './model-graph.ts';
import { DOMAIN_MONTH_INPUTS, INCREMENTAL_GRAIN, sqlSha256, type ModelPlan } from './incremental-plan.ts';
import type { DataTestResult } from './data-tests.ts';

/** What the previous build recorded of a test. */
export interface PreviousTest {
  sqlSha256: string;
  status: DataTestResult['status'];
}

export interface TestScope {
  name: string;
  scope: 'slice' | 'whole';
  /** Why the test runs on the whole warehouse; empty for tests run on the slice. */
  reason: string;
}

/** True when the test declares `-- incremental: domain_month`; another value is a ModelGraphError. */
export function isSliceableTest(test: SqlFile): boolean {
  const v = headerValue(test.sql, 'incremental');
  if (v === undefined) return false;
  if (v !== INCREMENTAL_GRAIN)
    throw new ModelGraphError(
      `data test ${test.name} (${test.path}): "-- incremental: ${v}" is not a grain the transform knows; use "-- incremental: ${INCREMENTAL_GRAIN}" or remove the line`,
    );
  return true;
}

/**
 * Where each test runs. `models` are the plans of this build's models (after building), undefined
 * in a full build; `previous` what the previous build recorded of each test.
 */
export function planTestScopes(
  tests: readonly SqlFile[],
  opts: { models: readonly ModelPlan[] | undefined; previous: ReadonlyMap<string, PreviousTest> },
): TestScope[] {
  const plans = new Map((opts.models ?? []).map((p) => [p.name, p]));
  return tests.map((t) => {
    const whole = (reason: string): TestScope => ({ name: t.name, scope: 'whole', reason });
    if (!isSliceableTest(t)) return whole(`no "-- incremental: ${INCREMENTAL_GRAIN}" header`);
    if (opts.models === undefined) return whole('full build');
    const prev = opts.previous.get(t.name);
    if (!prev) return whole('new test');
    if (prev.sqlSha256 !== sqlSha256(t.sql)) return whole('SQL changed');
    if (prev.status !== 'pass') return whole(`${prev.status} in the previous build`);
    for (const table of tablesRead(t.sql)) {
      const plan = plans.get(table);
      if (plan) {
        if (plan.action === 'full') return whole(`reads ${table}, rebuilt in full`);
      } else if (!DOMAIN_MONTH_INPUTS.includes(table)) {
        return whole(`reads ${table}, which is not sliced by domain-month`);
      }
    }
    return { name: t.name, scope: 'slice', reason: '' };
  });
}
