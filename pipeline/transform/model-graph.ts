/**
 * dbt-like model discovery: one model per reports/models/*.sql, the file name is the table name.
 * A model declares the models it reads in its first line, `-- depends_on: a, b` (empty when it
 * reads none), the way dbt's ref() does: the order of the build follows the headers only. The
 * tables a model actually reads (after FROM and JOIN) are checked against the header, so a model
 * cannot read one it forgot to declare, nor declare one it no longer reads. Pure functions, no
 * I/O except `loadSqlDir`.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

export interface SqlFile {
  name: string;
  path: string;
  sql: string;
}

export interface Model extends SqlFile {
  dependsOn: string[];
}

/** A model file whose header is missing or disagrees with its SQL; the message names model and table. */
export class ModelGraphError extends Error {
  override readonly name = 'ModelGraphError';
}

const NAME_RE = /^[a-z_][a-z0-9_]*$/;

/** Reads every *.sql in a directory (not recursive), sorted by name. */
export async function loadSqlDir(dir: string): Promise<SqlFile[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const files = entries.filter((f) => f.endsWith('.sql')).sort();
  return Promise.all(
    files.map(async (f) => {
      const name = basename(f, '.sql');
      if (!NAME_RE.test(name)) throw new Error(`model file ${join(dir, f)}: name must be lower_snake_case (it becomes a table name)`);
      return { name, path: join(dir, f), sql: await readFile(join(dir, f), 'utf8') };
    }),
  );
}

/** SQL without comments and string literals, so names in them are not taken as table names. */
export function stripCommentsAndStrings(sql: string): string {
  return sql
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/'(?:[^']|'')*'/g, "''");
}

/** Header comments of the form `-- key: value` (e.g. depends_on, severity); '' when present but empty. */
export function headerValue(sql: string, key: string): string | undefined {
  // [ \t] rather than \s: an empty header must not take the next line as its value.
  const re = new RegExp(`^[ \\t]*--[ \\t]*${key}[ \\t]*:[ \\t]*(.*)$`, 'mi');
  return re.exec(sql)?.[1]?.trim();
}

/**
 * True when the model declares `-- row_order: any`: nothing reads its rows in stored order (every
 * reader sorts), so it is built with DuckDB's `preserve_insertion_order` off, which lets the
 * final insert run in parallel without re-sequencing rows. Another value is a ModelGraphError.
 */
export function isRowOrderFree(model: SqlFile): boolean {
  const v = headerValue(model.sql, 'row_order');
  if (v === undefined) return false;
  if (v !== 'any')
    throw new ModelGraphError(
      `model ${model.name} (${model.path}): "-- row_order: ${v}" is not known; use "-- row_order: any" or remove the line`,
    );
  return true;
}

/**
 * The models a file declares in its first line, `-- depends_on: a, b`. Throws ModelGraphError
 * when the line is missing or names something that is not a model.
 */
export function declaredDependencies(file: SqlFile, modelNames: readonly string[]): string[] {
  const first = file.sql.split('\n', 1)[0] ?? '';
  const m = /^--[ \t]*depends_on[ \t]*:(.*)$/.exec(first.trim());
  if (!m) {
    throw new ModelGraphError(
      `model ${file.name} (${file.path}): the first line must declare the models it reads, e.g. "-- depends_on: calls, rating_plans" (or "-- depends_on:" when it reads none)`,
    );
  }
  const deps = new Set<string>();
  for (const d of (m[1] ?? '').split(',')) {
    const name = d.trim();
    if (name === '') continue;
    if (name === file.name) throw new ModelGraphError(`model ${file.name} (${file.path}): depends_on names the model itself`);
    if (!modelNames.includes(name))
      throw new ModelGraphError(`model ${file.name} (${file.path}): depends_on names ${JSON.stringify(name)}, which is not a model`);
    deps.add(name);
  }
  return [...deps].sort();
}

/** Names the query defines itself (WITH name AS, or `, name AS (` in a WITH list). */
function cteNames(body: string): Set<string> {
  const names = new Set<string>();
  for (const m of body.matchAll(/(?:\bwith(?:\s+recursive)?|,)\s+"?([a-z_][a-z0-9_]*)"?\s+as\s*(?:not\s+)?(?:materialized\s*)?\(/g))
    names.add(m[1]!);
  return names;
}

/**
 * The tables a query reads: the names after FROM and JOIN, except table functions (a name followed
 * by `(`) and its own CTEs. A check on the declared header, not the source of truth: it does not
 * see comma joins.
 */
export function tablesRead(sql: string): string[] {
  const body = stripCommentsAndStrings(sql).toLowerCase();
  const ctes = cteNames(body);
  const read = new Set<string>();
  for (const m of body.matchAll(/\b(?:from|join)\s+"?([a-z_][a-z0-9_]*)"?(?!\s*\(|[a-z0-9_.])/g)) {
    if (!ctes.has(m[1]!)) read.add(m[1]!);
  }
  return [...read].sort();
}

/**
 * Declared dependencies, checked against the models the SQL reads: a model read but not declared,
 * or declared but not read, is a ModelGraphError naming both.
 */
export function checkedDependencies(file: SqlFile, modelNames: readonly string[]): string[] {
  const declared = declaredDependencies(file, modelNames);
  const read = tablesRead(file.sql).filter((t) => t !== file.name && modelNames.includes(t));
  const undeclared = read.filter((t) => !declared.includes(t));
  const unread = declared.filter((t) => !read.includes(t));
  if (undeclared.length > 0) {
    throw new ModelGraphError(
      `model ${file.name} (${file.path}) reads ${undeclared.join(', ')} but does not declare it: add it to the "-- depends_on:" first line`,
    );
  }
  if (unread.length > 0) {
    throw new ModelGraphError(
      `model ${file.name} (${file.path}) declares depends_on ${unread.join(', ')} but does not read it (after FROM or JOIN): remove it from the "-- depends_on:" first line`,
    );
  }
  return declared;
}

/** Models in an order where each comes after what it declares; a cycle is an error naming it. */
export function orderModels(files: readonly SqlFile[]): Model[] {
  const names = files.map((f) => f.name);
  const models = new Map(files.map((f) => [f.name, { ...f, dependsOn: checkedDependencies(f, names) }]));
  const ordered: Model[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]) => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') throw new ModelGraphError(`models depend on each other in a cycle: ${[...path, name].join(' -> ')}`);
    state.set(name, 'visiting');
    const m = models.get(name)!;
    for (const d of m.dependsOn) visit(d, [...path, name]);
    state.set(name, 'done');
    ordered.push(m);
  };
  for (const n of [...names].sort()) visit(n, []);
  return ordered;
}
