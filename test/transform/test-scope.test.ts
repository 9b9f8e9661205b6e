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

  it('runs a test of the domain grain on the changed domains when it reads only incremental models', () => {
    const byDomain = (name: string, body: string) => test(name, `-- incremental: domain\n-- ${name}\n${body}\n`);
    const key = byDomain('calls_unique_domain_id', 'SELECT domain, id, count(*) AS n FROM calls GROUP BY domain, id HAVING count(*) > 1');
    const parent = byDomain(
      'rated_calls_parent',
      'SELECT * FROM rated_calls AS c WHERE NOT EXISTS (SELECT 1 FROM calls AS p WHERE p.id = c.id)',
    );
    const input = byDomain(
      'calls_in_domains',
      'SELECT * FROM calls AS c WHERE NOT EXISTS (SELECT 1 FROM domains AS d WHERE d.domain = c.domain)',
    );
    const carrierKey = byDomain('carrier_key', 'SELECT domain, count(*) FROM carrier_matches GROUP BY domain');
    const tests = [key, parent, input, carrierKey];
    expect(planTestScopes(tests, { models, previous: passed(...tests) }).map((s) => [s.name, s.scope, s.reason])).toEqual([
      ['calls_unique_domain_id', 'domains', ''],
      ['rated_calls_parent', 'domains', ''],
      ['calls_in_domains', 'whole', 'reads domains, which is not a model sliced by domain'],
      ['carrier_key', 'whole', 'reads carrier_matches, rebuilt in full'],
    ]);
  });

  it('keeps the result of a columns test whose model was recomputed or kept, not of one rebuilt in full', () => {
    const columns = (model: string) =>
      test(
        `${model}_columns_as_described`,
        `-- incremental: columns\n-- depends_on: ${model}\nSELECT 1 FROM information_schema.columns WHERE false\n`,
      );
    const tests = [columns('rated_calls'), columns('calls'), columns('carrier_matches'), columns('gone')];
    expect(planTestScopes(tests, { models, previous: passed(...tests) }).map((s) => [s.name, s.scope, s.reason])).toEqual([
      ['rated_calls_columns_as_described', 'kept', ''],
      ['calls_columns_as_described', 'kept', ''],
      ['carrier_matches_columns_as_described', 'whole', 'checks carrier_matches, rebuilt in full'],
      ['gone_columns_as_described', 'whole', 'checks gone, which is not a model of this build'],
    ]);
    // A failure is run again until it passes; a full build runs it.
    const failed = new Map([[tests[0]!.name, { sqlSha256: sqlSha256(tests[0]!.sql), status: 'fail' as const }]]);
    expect(planTestScopes([tests[0]!], { models, previous: failed })[0]?.scope).toBe('whole');
    expect(planTestScopes([tests[0]!], { models: undefined, previous: passed(tests[0]!) })[0]?.scope).toBe('whole');
    expect(() => isSliceableTest(test('x', '-- incremental: columns\nSELECT 1'))).toThrow(/needs a "-- depends_on: <model>" line/);
  });

  it('knows the domain_month and domain grains', () => {
    expect(isSliceableTest(rowCheck)).toBe(true);
    expect(isSliceableTest(test('x', '-- incremental: domain\nSELECT 1'))).toBe(true);
    expect(isSliceableTest(global)).toBe(false);
    expect(() => isSliceableTest(test('x', '-- incremental: month\nSELECT 1'))).toThrow(/not a grain the transform knows/);
  });
});
