import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../pipeline/db/duckdb.ts';
import { resolveProjectPath } from '../../pipeline/config/load-config.ts';
import { runDataTests } from '../../pipeline/transform/data-tests.ts';
import { genericTests } from '../../pipeline/transform/generic-tests.ts';
import { ModelSchemaError, parseModelSchema } from '../../pipeline/transform/model-schema.ts';
import { loadSqlProject } from '../../pipeline/transform/sql-project.ts';
import { expectedWarehouseDocs, WAREHOUSE_DOCS } from '../../pipeline/transform/write-warehouse-docs.ts';

const schema = (model: string, body: object) => parseModelSchema(model, `${model}.schema.json`, JSON.stringify(body));

const legs = schema('legs', {
  description: 'Call legs.',
  grain: 'one per leg',
  columns: [
    { name: 'domain', type: 'VARCHAR', description: 'd', tests: ['not_null'] },
    { name: 'id', type: 'VARCHAR', description: 'i', tests: ['unique'] },
    { name: 'kind', type: 'VARCHAR', description: 'k', tests: [{ test: 'accepted_values', values: ['a', 'b'] }] },
    { name: 'owner', type: 'VARCHAR', description: 'o', tests: [{ test: 'relationships', to: 'owners', field: 'name', severity: 'warn' }] },
    { name: 'n', type: 'INTEGER', description: 'n' },
  ],
  tests: [{ test: 'unique', columns: ['domain', 'id'] }],
});

let db: Db;
beforeAll(async () => {
  db = await Db.open(':memory:');
  await db.exec(`
    CREATE TABLE owners AS SELECT * FROM (VALUES ('ann')) AS t(name);
    CREATE TABLE legs AS SELECT * FROM (VALUES
      ('x', '1', 'a', 'ann', 1), (NULL, '2', 'b', 'bob', 2), ('x', '2', 'c', NULL, 3), ('y', '3', NULL, 'ann', 4)
    ) AS t(domain, id, kind, owner, n);
    CREATE TABLE legs_drifted AS SELECT domain, id, kind, owner, CAST(n AS BIGINT) AS n FROM legs;`);
});
afterAll(() => db.close());

describe('generic data tests from a model description', () => {
  it('are named like dbt and select the rows that break each rule', async () => {
    const results = await runDataTests(db, genericTests([legs]));
    expect(results.map((r) => [r.name, r.status, r.failingRows])).toEqual([
      ['legs_columns_as_described', 'pass', 0],
      ['legs_domain_not_null', 'fail', 1],
      ['legs_id_unique', 'fail', 1],
      ['legs_kind_accepted_values', 'fail', 1],
      ['legs_owner_relationships_owners', 'warn', 1],
      ['legs_unique_domain_id', 'pass', 0],
    ]);
    expect(results.find((r) => r.name === 'legs_kind_accepted_values')?.sample).toEqual([{ kind: 'c', n: '1' }]);
    expect(results.find((r) => r.name === 'legs_owner_relationships_owners')).toMatchObject({
      severity: 'warn',
      description: 'Every legs.owner is a owners.name.',
    });
  });

  it('fail when the built columns or their types drift from the description', async () => {
    const drifted = { ...legs, model: 'legs_drifted' };
    const [check] = await runDataTests(db, genericTests([drifted]).slice(0, 1));
    expect(check).toMatchObject({ name: 'legs_drifted_columns_as_described', status: 'fail', failingRows: 1 });
    expect(check?.sample[0]).toMatchObject({ column_name: 'n', described_type: 'INTEGER', built_type: 'BIGINT' });
  });

  it('take the description after a severity header, not the header', async () => {
    const [r] = await runDataTests(db, [
      { name: 'advisory', path: 'advisory.sql', sql: '-- severity: warn\n-- Legs exist,\n-- at least one.\nSELECT * FROM legs' },
    ]);
    expect(r).toMatchObject({ status: 'warn', description: 'Legs exist, at least one.' });
  });
});

describe('model descriptions', () => {
  it('refuse a test on a column they do not list, and unknown test kinds', () => {
    expect(() =>
      schema('m', {
        description: 'x',
        grain: 'g',
        columns: [{ name: 'a', type: 'VARCHAR', description: 'a' }],
        tests: [{ test: 'unique', columns: ['b'] }],
      }),
    ).toThrow(/m\.schema\.json: test unique names column b, which the description does not list/);
    expect(() =>
      schema('m', { description: 'x', grain: 'g', columns: [{ name: 'a', type: 'VARCHAR', description: 'a', tests: ['positive'] }] }),
    ).toThrow(ModelSchemaError);
  });

  it('are required for every model, and a test name may be used once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cdrpipe-sql-project-'));
    try {
      await mkdir(join(dir, 'tests'));
      await writeFile(join(dir, 'legs.sql'), '-- depends_on:\nSELECT 1 AS id\n');
      await expect(loadSqlProject({ modelsDir: dir, testsDir: join(dir, 'tests') })).rejects.toThrow(
        /model legs has no description: add .*legs\.schema\.json/,
      );
      await writeFile(
        join(dir, 'legs.schema.json'),
        JSON.stringify({ description: 'x', grain: 'g', columns: [{ name: 'id', type: 'INTEGER', description: 'i', tests: ['not_null'] }] }),
      );
      await writeFile(join(dir, 'tests', 'legs_id_not_null.sql'), '-- Hand-written.\nSELECT 1 WHERE false\n');
      await expect(loadSqlProject({ modelsDir: dir, testsDir: join(dir, 'tests') })).rejects.toThrow(
        /data test legs_id_not_null is defined twice/,
      );
      await writeFile(join(dir, 'gone.schema.json'), '{}');
      await expect(loadSqlProject({ modelsDir: dir, testsDir: join(dir, 'tests') })).rejects.toThrow(
        /gone\.schema\.json describes a model that does not exist/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('describe every shipped model, and docs/warehouse.md is generated from them (npm run docs:warehouse)', async () => {
    const modelsDir = resolveProjectPath('reports/models');
    const project = await loadSqlProject({ modelsDir, testsDir: join(modelsDir, 'tests') });
    expect(project.schemas.map((s) => s.model)).toEqual(project.models.map((m) => m.name));
    expect(project.tests.map((t) => t.name)).toContain('unbillable_calls_reason_accepted_values');
    const docs = await readFile(resolveProjectPath(WAREHOUSE_DOCS), 'utf8');
    expect(docs, 'docs/warehouse.md is out of date: run npm run docs:warehouse').toBe(await expectedWarehouseDocs());
  });
});
