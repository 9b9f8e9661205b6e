/**
 * The SQL project as the transform runs it: the models in build order (transform/model-graph.ts),
 * their descriptions (transform/model-schema.ts), the hand-written data tests of
 * reports/models/tests/ and the generic tests generated from the descriptions.
 */
import { genericTests } from './generic-tests.ts';
import { loadSqlDir, orderModels, type Model, type SqlFile } from './model-graph.ts';
import { loadModelSchemas, ModelSchemaError, type ModelSchema } from './model-schema.ts';

export interface SqlProject {
  models: Model[];
  /** One per model, in build order. */
  schemas: ModelSchema[];
  /** Hand-written tests (reports/models/tests/*.sql), for what generic tests cannot say. */
  singularTests: SqlFile[];
  /** Hand-written tests first, then the generated ones. */
  tests: SqlFile[];
}

/** Loads and checks the project; a test name used twice is a ModelSchemaError naming both places. */
export async function loadSqlProject(dirs: { modelsDir: string; testsDir: string }): Promise<SqlProject> {
  const models = orderModels(await loadSqlDir(dirs.modelsDir));
  const schemas = await loadModelSchemas(
    dirs.modelsDir,
    models.map((m) => m.name),
  );
  const singularTests = await loadSqlDir(dirs.testsDir);
  const tests = [...singularTests, ...genericTests(schemas)];
  const seen = new Map<string, string>();
  for (const t of tests) {
    const other = seen.get(t.name);
    if (other !== undefined)
      throw new ModelSchemaError(`data test ${t.name} is defined twice (${other} and ${t.path}): rename or remove one`);
    seen.set(t.name, t.path);
  }
  return { models, schemas, singularTests, tests };
}
