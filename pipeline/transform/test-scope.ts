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

/**
 * The coarser grain a test may declare (`-- incremental: domain`): each row it selects is decided
 * by the rows of one domain of the tables it reads, all months together. A uniqueness check whose
 * key holds `domain` (but not `local_month`), or a relationship whose columns hold `domain`. In an
 * incremental build such a test runs on every row of the domains that have a changed domain-month.
 * This is exact when the test passed in the build being patched and every table it reads is an
 * incremental model: a domain with no changed domain-month has the rows it had then, so it selects
 * no row now either. For a uniqueness check, a duplicate that involves a changed row lies within
 * that row's domain. For a relationship, an unchanged row that lost its parent lost it to a changed
 * domain-month of its own domain (the match includes `domain`), and the parents it may match are
 * rows of that same domain.
 */
export const DOMAIN_GRAIN = 'domain';

/**
 * The grain of a test that reads no rows, only the catalog's record of one model's table (its
 * columns, their order and types), the model named in the test's `-- depends_on:` line. An
 * incremental build that recomputes or keeps the model deletes and inserts rows of a table that
 * already exists, and only creating a table sets its columns, so they are those of the build being
 * patched. When the test passed there with the same SQL, running it again selects no row: the
 * build keeps its result (scope `kept`) instead of reading the catalog again.
 */
export const COLUMNS_GRAIN = 'columns';

/** The grains a data test may declare. */
export type TestGrain = typeof INCREMENTAL_GRAIN | typeof DOMAIN_GRAIN | typeof COLUMNS_GRAIN;

/** What the previous build recorded of a test. */
export interface PreviousTest {
  sqlSha256: string;
  status: DataTestResult['status'];
}

export interface TestScope {
  name: string;
  /**
   * slice: the changed domain-months; domains: every month of the domains with one; whole: the whole
   * warehouse; kept: not run, its result is the previous build's pass (COLUMNS_GRAIN).
   */
  scope: 'slice' | 'domains' | 'whole' | 'kept';
  /** Why the test runs on the whole warehouse; empty for tests run on a slice or kept. */
  reason: string;
}

/** The grain the test declares (`-- incremental: domain_month`, `domain` or `columns`), undefined without the header; another value is a ModelGraphError. */
export function testGrain(test: SqlFile): TestGrain | undefined {
  const v = headerValue(test.sql, 'incremental');
  if (v === undefined) return undefined;
  if (v !== INCREMENTAL_GRAIN && v !== DOMAIN_GRAIN && v !== COLUMNS_GRAIN)
    throw new ModelGraphError(
      `data test ${test.name} (${test.path}): "-- incremental: ${v}" is not a grain the transform knows; use "-- incremental: ${INCREMENTAL_GRAIN}", "-- incremental: ${DOMAIN_GRAIN}" or "-- incremental: ${COLUMNS_GRAIN}", or remove the line`,
    );
  if (v === COLUMNS_GRAIN && !headerValue(test.sql, 'depends_on'))
    throw new ModelGraphError(
      `data test ${test.name} (${test.path}): "-- incremental: ${COLUMNS_GRAIN}" needs a "-- depends_on: <model>" line naming the model whose columns it checks`,
    );
  return v;
}

/** True when the test declares a grain an incremental build may narrow it by (`-- incremental: domain_month`, `domain` or `columns`). */
export function isSliceableTest(test: SqlFile): boolean {
  return testGrain(test) !== undefined;
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
    const grain = testGrain(t);
    if (grain === undefined) return whole(`no "-- incremental: ${INCREMENTAL_GRAIN}" header`);
    if (opts.models === undefined) return whole('full build');
    const prev = opts.previous.get(t.name);
    if (!prev) return whole('new test');
    if (prev.sqlSha256 !== sqlSha256(t.sql)) return whole('SQL changed');
    if (prev.status !== 'pass') return whole(`${prev.status} in the previous build`);
    if (grain === COLUMNS_GRAIN) {
      const model = headerValue(t.sql, 'depends_on')!;
      const plan = plans.get(model);
      if (!plan) return whole(`checks ${model}, which is not a model of this build`);
      if (plan.action === 'full') return whole(`checks ${model}, rebuilt in full`);
      return { name: t.name, scope: 'kept', reason: '' };
    }
    for (const table of tablesRead(t.sql)) {
      const plan = plans.get(table);
      if (plan) {
        if (plan.action === 'full') return whole(`reads ${table}, rebuilt in full`);
      } else if (grain === DOMAIN_GRAIN) {
        return whole(`reads ${table}, which is not a model sliced by domain`);
      } else if (!DOMAIN_MONTH_INPUTS.includes(table)) {
        return whole(`reads ${table}, which is not sliced by domain-month`);
      }
    }
    return { name: t.name, scope: grain === DOMAIN_GRAIN ? 'domains' : 'slice', reason: '' };
  });
}
