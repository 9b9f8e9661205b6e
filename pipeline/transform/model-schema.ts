/**
 * The description of each model, `reports/models/<model>.schema.json`: what the model is, its
 * grain, every column with its DuckDB type, description and generic tests, and tests on several
 * columns. The generic data tests (transform/generic-tests.ts) and docs/warehouse.md
 * (transform/warehouse-docs.ts) are generated from it, so neither can drift from the other.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { SEVERITIES } from './data-tests.ts';

const severity = z.enum(SEVERITIES).optional();

/** A test on one column: `not_null`, `unique`, or an object with its options. */
const columnTest = z.union([
  z.enum(['not_null', 'unique']),
  z.strictObject({ test: z.enum(['not_null', 'unique']), severity }),
  z.strictObject({ test: z.literal('accepted_values'), values: z.array(z.string()).min(1), severity }),
  z.strictObject({ test: z.literal('relationships'), to: z.string().min(1), field: z.string().min(1), severity }),
]);

/** A test on several columns of the model. */
const modelTest = z.union([
  z.strictObject({ test: z.literal('unique'), columns: z.array(z.string()).min(1), severity }),
  z.strictObject({ test: z.literal('relationships'), columns: z.array(z.string()).min(1), to: z.string().min(1), severity }),
]);

const modelSchemaFile = z.strictObject({
  description: z.string().min(1),
  grain: z.string().min(1),
  columns: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        /** As DuckDB's information_schema spells it, e.g. DECIMAL(18,6), TIMESTAMP WITH TIME ZONE. */
        type: z.string().min(1),
        description: z.string().min(1),
        tests: z.array(columnTest).optional(),
      }),
    )
    .min(1),
  tests: z.array(modelTest).optional(),
});

export type ColumnTest = z.infer<typeof columnTest>;
export type ModelTest = z.infer<typeof modelTest>;
export type ModelSchemaFile = z.infer<typeof modelSchemaFile>;

export interface ModelSchema extends ModelSchemaFile {
  model: string;
  path: string;
}

/** A description file that is missing, unreadable or disagrees with itself; the message names the file and field. */
export class ModelSchemaError extends Error {
  override readonly name = 'ModelSchemaError';
}

const SUFFIX = '.schema.json';

/** The file describing a model. */
export function modelSchemaPath(modelsDir: string, model: string): string {
  return join(modelsDir, `${model}${SUFFIX}`);
}

/** Parses and checks one description (pure): tests name declared columns, column names are unique. */
export function parseModelSchema(model: string, path: string, text: string): ModelSchema {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ModelSchemaError(`${path}: not valid JSON (${err instanceof Error ? err.message : String(err)}); fix the file`);
  }
  const parsed = modelSchemaFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ModelSchemaError(`${path}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  const schema: ModelSchema = { ...parsed.data, model, path };
  const names = schema.columns.map((c) => c.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new ModelSchemaError(`${path}: column ${twice} is described twice`);
  for (const t of schema.tests ?? []) {
    const unknown = t.columns.find((c) => !names.includes(c));
    if (unknown) throw new ModelSchemaError(`${path}: test ${t.test} names column ${unknown}, which the description does not list`);
  }
  return schema;
}

/** Reads the description of every model; a model without one is a ModelSchemaError naming the file to add. */
export async function loadModelSchemas(modelsDir: string, models: readonly string[]): Promise<ModelSchema[]> {
  const orphan = (await readdir(modelsDir)).find((f) => f.endsWith(SUFFIX) && !models.includes(f.slice(0, -SUFFIX.length)));
  if (orphan)
    throw new ModelSchemaError(
      `${join(modelsDir, orphan)} describes a model that does not exist (no ${orphan.slice(0, -SUFFIX.length)}.sql): rename or remove it`,
    );
  return Promise.all(
    models.map(async (model) => {
      const path = modelSchemaPath(modelsDir, model);
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          throw new ModelSchemaError(
            `model ${model} has no description: add ${path} (description, grain, columns with type, description and tests)`,
          );
        }
        throw err;
      }
      return parseModelSchema(model, path, text);
    }),
  );
}
