import { describe, expect, it } from 'vitest';
import { withDb } from '../../pipeline/db/duckdb.ts';
import { runDataTests } from '../../pipeline/transform/data-tests.ts';
import { genericTests } from '../../pipeline/transform/generic-tests.ts';
import { createTestSlice, dropTestSlice, TEST_DOMAINS_SCHEMA, TEST_SLICE_SCHEMA } from '../../pipeline/transform/test-slice.ts';
import type { ModelSchema } from '../../pipeline/transform/model-schema.ts';

const col = (name: string, type = 'VARCHAR') => ({ name, type, description: name });
// Two incremental models: legs (one row per call) and priced, which points back to legs.
const schemas: ModelSchema[] = [
  {
    model: 'legs',
    path: 'legs.schema.json',
    description: 'legs',
    grain: 'call',
    columns: [col('domain'), col('local_month'), col('id')],
    tests: [{ test: 'unique', columns: ['domain', 'id'] }],
  },
  {
    model: 'priced',
    path: 'priced.schema.json',
    description: 'priced',
    grain: 'call',
    columns: [col('domain'), col('local_month'), col('id')],
    tests: [{ test: 'relationships', columns: ['domain', 'id'], to: 'legs' }],
  },
];

describe('data tests on the changed domains', () => {
  it('find a duplicate key and a lost parent whose other half sits in a domain-month that did not change', async () => {
    const tests = genericTests(schemas).filter((t) => !t.name.endsWith('_columns_as_described'));
    expect(tests.map((t) => [t.name, /-- incremental: domain\n/.test(t.sql)])).toEqual([
      ['legs_unique_domain_id', true],
      ['priced_domain_id_relationships_legs', true],
    ]);
    await withDb(':memory:', async (db) => {
      // a.example's 2026-11 was recomputed: it now repeats an id of its (unchanged) October and lost
      // the leg an unchanged October row of priced points to. b.example did not change.
      await db.run(`CREATE TABLE legs AS SELECT * FROM (VALUES
        ('a.example', '2026-10', 'x1'), ('a.example', '2026-11', 'x1'), ('a.example', '2026-11', 'x3'),
        ('b.example', '2026-11', 'y1')) AS t(domain, local_month, id)`);
      await db.run(`CREATE TABLE priced AS SELECT * FROM (VALUES
        ('a.example', '2026-10', 'x1'), ('a.example', '2026-10', 'x2'), ('a.example', '2026-11', 'x3'),
        ('b.example', '2026-11', 'y1')) AS t(domain, local_month, id)`);
      await db.run(`CREATE TEMP TABLE incr_changed AS SELECT 'a.example' AS domain, '2026-11' AS local_month, 'lake' AS reason`);
      const models = [
        { name: 'legs', action: 'incremental' as const, reason: '' },
        { name: 'priced', action: 'incremental' as const, reason: '' },
      ];
      const whole = await runDataTests(db, tests);
      await createTestSlice(db, { slice: undefined, models });
      const onDomains = new Map(tests.map((t) => [t.name, TEST_DOMAINS_SCHEMA]));
      const onMonths = new Map(tests.map((t) => [t.name, TEST_SLICE_SCHEMA]));
      const domains = await runDataTests(db, tests, { onSlice: onDomains });
      const months = await runDataTests(db, tests, { onSlice: onMonths });
      await dropTestSlice(db);
      expect(whole.map((r) => [r.name, r.status, r.failingRows, r.sample])).toEqual([
        ['legs_unique_domain_id', 'fail', 1, [{ domain: 'a.example', id: 'x1', n: '2' }]],
        ['priced_domain_id_relationships_legs', 'fail', 1, [{ domain: 'a.example', id: 'x2' }]],
      ]);
      // Every month of the changed domains: the results of a whole run.
      expect(domains).toEqual(whole);
      // The changed domain-months alone would miss both (why these tests take the domain grain).
      expect(months.map((r) => r.status)).toEqual(['pass', 'pass']);
      const left = await db.all(`SELECT schema_name FROM duckdb_schemas() WHERE schema_name LIKE 'incr_%'`);
      expect(left).toEqual([]);
    });
  });

  it('counts tests on a slice together and gives each the result it gets alone, a test that cannot run included', async () => {
    await withDb(':memory:', async (db) => {
      await db.run(`CREATE SCHEMA s`);
      await db.run(`CREATE TABLE s.t AS SELECT range AS v FROM range(10)`);
      // 30 tests: more than one statement's worth; one reads a column that does not exist, one fails.
      const tests = Array.from({ length: 30 }, (_, i) => ({
        name: `t${String(i).padStart(2, '0')}`,
        path: `t${i}.sql`,
        sql: i === 7 ? `-- broken\nSELECT nope FROM t` : `-- v above ${i}\nSELECT v FROM t WHERE v > ${i + (i === 3 ? -3 : 10)};`,
      }));
      const onSlice = new Map(tests.map((t) => [t.name, 's']));
      const together = await runDataTests(db, tests, { onSlice });
      const alone = [];
      for (const t of tests) alone.push(...(await runDataTests(db, [t], { onSlice })));
      expect(together).toEqual(alone);
      expect(together[3]).toMatchObject({ status: 'fail', failingRows: 9, sample: ['1', '2', '3', '4', '5'].map((v) => ({ v })) });
      expect(together[7]).toMatchObject({ status: 'error', error: expect.stringMatching(/nope/) });
      expect(together.filter((r) => r.status === 'pass')).toHaveLength(28);
    });
  });
});
