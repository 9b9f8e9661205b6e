/**
 * Generic data tests, generated from the model descriptions (transform/model-schema.ts) the way
 * dbt generates its schema tests. Each becomes a test like the hand-written ones in
 * reports/models/tests/: a query selecting the rows that break the rule, with the severity and
 * description headers data-tests.ts reads. Names follow dbt: <model>_<column>_<test>.
 */
import { sqlIdent, sqlString } from '../db/duckdb.ts';
import type { SqlFile } from './model-graph.ts';
import type { ColumnTest, ModelSchema, ModelTest } from './model-schema.ts';
import { INCREMENTAL_GRAIN } from './incremental-plan.ts';
import { COLUMNS_GRAIN, DOMAIN_GRAIN, type TestGrain } from './test-scope.ts';

const id = sqlIdent;

/**
 * `grain`: `domain_month` when each row the test selects comes from one row of the model, or from a
 * group whose key holds domain and local_month; `domain` when it comes from the rows of one domain
 * (a key or a relationship that holds domain); `columns` when it reads only the model's catalog entry. An incremental build may then run it on the changed
 * domain-months, or on every month of the changed domains (transform/test-scope.ts decides; a model
 * rebuilt in full is tested whole).
 */
function file(
  schema: ModelSchema,
  name: string,
  description: string,
  severity: 'error' | 'warn' | undefined,
  query: string,
  grain?: TestGrain,
): SqlFile {
  const header =
    (grain ? `-- incremental: ${grain}\n` : '') +
    (grain === COLUMNS_GRAIN ? `-- depends_on: ${schema.model}\n` : '') +
    (severity === 'warn' ? '-- severity: warn\n' : '');
  return { name, path: schema.path, sql: `${header}-- ${description}\n${query}\n` };
}

function columnTests(schema: ModelSchema, column: string, test: ColumnTest): SqlFile {
  const m = schema.model;
  const t = typeof test === 'string' ? { test } : test;
  const severity = 'severity' in t ? t.severity : undefined;
  switch (t.test) {
    case 'not_null':
      return file(
        schema,
        `${m}_${column}_not_null`,
        `${m}.${column} is never NULL.`,
        severity,
        `SELECT * FROM ${id(m)} WHERE ${id(column)} IS NULL`,
        INCREMENTAL_GRAIN,
      );
    case 'unique':
      return file(
        schema,
        `${m}_${column}_unique`,
        `${m}.${column} is unique.`,
        severity,
        `SELECT ${id(column)}, count(*) AS n FROM ${id(m)} WHERE ${id(column)} IS NOT NULL GROUP BY ${id(column)} HAVING count(*) > 1`,
      );
    case 'accepted_values':
      return file(
        schema,
        `${m}_${column}_accepted_values`,
        `${m}.${column} is one of ${t.values.join(', ')} (or NULL).`,
        severity,
        `SELECT ${id(column)}, count(*) AS n FROM ${id(m)} WHERE ${id(column)} NOT IN (${t.values.map(sqlString).join(', ')}) GROUP BY ${id(column)}`,
        // Grouped across domain-months, but only rows with a value outside the list form a group.
        INCREMENTAL_GRAIN,
      );
    case 'relationships':
      return file(
        schema,
        `${m}_${column}_relationships_${t.to}`,
        `Every ${m}.${column} is a ${t.to}.${t.field}.`,
        severity,
        `SELECT c.${id(column)}, count(*) AS n FROM ${id(m)} AS c WHERE c.${id(column)} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${id(t.to)} AS p WHERE p.${id(t.field)} = c.${id(column)}) GROUP BY c.${id(column)}`,
      );
  }
}

function modelTests(schema: ModelSchema, test: ModelTest): SqlFile {
  const m = schema.model;
  const cols = test.columns.map(id).join(', ');
  if (test.test === 'unique') {
    return file(
      schema,
      `${m}_unique_${test.columns.join('_')}`,
      `${m} has one row per (${test.columns.join(', ')}).`,
      test.severity,
      `SELECT ${cols}, count(*) AS n FROM ${id(m)} GROUP BY ${cols} HAVING count(*) > 1`,
      test.columns.includes('domain') ? (test.columns.includes('local_month') ? INCREMENTAL_GRAIN : DOMAIN_GRAIN) : undefined,
    );
  }
  const match = test.columns.map((c) => `p.${id(c)} = c.${id(c)}`).join(' AND ');
  return file(
    schema,
    `${m}_${test.columns.join('_')}_relationships_${test.to}`,
    `Every (${test.columns.join(', ')}) of ${m} is in ${test.to}.`,
    test.severity,
    `SELECT ${test.columns.map((c) => `c.${id(c)}`).join(', ')} FROM ${id(m)} AS c WHERE NOT EXISTS (SELECT 1 FROM ${id(test.to)} AS p WHERE ${match})`,
    // A row and the parents it may match share its domain.
    test.columns.includes('domain') ? DOMAIN_GRAIN : undefined,
  );
}

/** The columns as built must be the columns described, in order, with the described types. */
function columnsAsDescribed(schema: ModelSchema): SqlFile {
  const m = schema.model;
  const declared = schema.columns.map((c, i) => `(${i + 1}, ${sqlString(c.name)}, ${sqlString(c.type)})`).join(', ');
  return file(
    schema,
    `${m}_columns_as_described`,
    `${m} has the columns of ${m}.schema.json, in order and with their types.`,
    undefined,
    `WITH described(position, column_name, data_type) AS (VALUES ${declared}),
built AS (
  SELECT ordinal_position AS position, column_name, data_type FROM information_schema.columns
  WHERE table_schema = current_schema() AND table_name = ${sqlString(m)}
)
SELECT coalesce(d.column_name, b.column_name) AS column_name, d.position AS described_position, b.position AS built_position,
       d.data_type AS described_type, b.data_type AS built_type
FROM described AS d
FULL JOIN built AS b ON b.column_name = d.column_name
WHERE d.position IS DISTINCT FROM b.position OR d.data_type IS DISTINCT FROM b.data_type`,
    // Reads the model's catalog entry only: unchanged unless the model's table is created again.
    COLUMNS_GRAIN,
  );
}

/** Every generic test of the described models, in model order, each model's column checks first. */
export function genericTests(schemas: readonly ModelSchema[]): SqlFile[] {
  const out: SqlFile[] = [];
  for (const s of schemas) {
    out.push(columnsAsDescribed(s));
    for (const c of s.columns) for (const t of c.tests ?? []) out.push(columnTests(s, c.name, t));
    for (const t of s.tests ?? []) out.push(modelTests(s, t));
  }
  return out;
}
