import { describe, expect, it } from 'vitest';
import { sqlSha256 } from '../../pipeline/transform/incremental-plan.ts';
import { isSliceableTest, planTestScopes, type PreviousTest } from '../../pipeline/transform/test-scope.ts';
import type { SqlFile } from '../../pipeline/transform/model-graph.ts';

const test = (name: string, sql: string): SqlFile => ({ name, path: `${name}.sql`, sql });
const sliceable = (name: string, body: string) => test(name, `-- incremental: domain_month\n-- ${name}\n${body}\n`);
const passed = (...tests: SqlFile[]) =>
  new Map<string, PreviousTest>(tests.map((t) => [t.name, { sqlSha256: sqlSha256(t.sql), status: 'pass' }]));

describe('data test scopes', () => {
  const rowCheck = sliceable('rated_calls_money_sane', 'SELECT * FROM rated_calls WHERE charge < 0');
  const lakeCheck = sliceable('cdrs_talk', 'SELECT * FROM cdrs AS c JOIN domains AS d USING (domain) WHERE talk_s > duration_s');
  const global = test('one_row_per_call', '-- counts\nSELECT 1 FROM rated_calls HAVING count(*) <> (SELECT count(*) FROM calls)');
  const carrier = sliceable('carrier_check', 'SELECT * FROM carrier_matches WHERE status IS NULL');
  const foreign = sliceable('foreign', 'SELECT * FROM rated_calls AS r JOIN carrier_terms AS t ON true');
  const models = [
    { name: 'rated_calls', action: 'incremental' as const, reason: '' },
    { name: 'calls', action: 'keep' as const, reason: '' },
    { name: 'carrier_matches', action: 'full' as const, reason: 'not incremental' },
  ];

  it('slices a test that passed, reads only sliced tables and kept its SQL; says why each other test runs whole', () => {
    const tests = [rowCheck, lakeCheck, global, carrier, foreign];
    const scopes = planTestScopes(tests, { models, previous: passed(...tests) });
    expect(scopes.map((s) => [s.name, s.scope, s.reason])).toEqual([
      ['rated_calls_money_sane', 'slice', ''],
      ['cdrs_talk', 'slice', ''],
      ['one_row_per_call', 'whole', 'no "-- incremental: domain_month" header'],
      ['carrier_check', 'whole', 'reads carrier_matches, rebuilt in full'],
      ['foreign', 'whole', 'reads carrier_terms, which is not sliced by domain-month'],
    ]);
  });

  it('runs whole in a full build, and when the test is new, changed or did not pass in the build being patched', () => {
    expect(planTestScopes([rowCheck], { models: undefined, previous: passed(rowCheck) })[0]).toMatchObject({
      scope: 'whole',
      reason: 'full build',
    });
    expect(planTestScopes([rowCheck], { models, previous: new Map() })[0]?.reason).toBe('new test');
    const edited = { ...rowCheck, sql: rowCheck.sql + '-- edited\n' };
    expect(planTestScopes([edited], { models, previous: passed(rowCheck) })[0]?.reason).toBe('SQL changed');
    const failed = new Map([[rowCheck.name, { sqlSha256: sqlSha256(rowCheck.sql), status: 'fail' as const }]]);
    expect(planTestScopes([rowCheck], { models, previous: failed })[0]?.reason).toBe('fail in the previous build');
  });

  it('knows only the domain_month grain', () => {
    expect(isSliceableTest(rowCheck)).toBe(true);
    expect(isSliceableTest(global)).toBe(false);
    expect(() => isSliceableTest(test('x', '-- incremental: month\nSELECT 1'))).toThrow(/not a grain the transform knows/);
  });
});
