/**
 * dbt-like model discovery: one model per reports/models/*.sql, the file name is the table name.
 * Dependencies are the other model names a model mentions (comments and strings ignored), plus
 * any `-- depends_on: a, b` header. Pure functions, no I/O except `loadSqlDir`.
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

/** SQL without comments and string literals, so names in them are not taken as dependencies. */
export function stripCommentsAndStrings(sql: string): string {
  return sql
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/'(?:[^']|'')*'/g, "''");
}

/** Header comments of the form `-- key: value` (e.g. depends_on, severity). */
export function headerValue(sql: string, key: string): string | undefined {
  const re = new RegExp(`^\\s*--\\s*${key}\\s*:\\s*(.+)$`, 'mi');
  return re.exec(sql)?.[1]?.trim();
}

export function inferDependencies(file: SqlFile, modelNames: readonly string[]): string[] {
  const body = stripCommentsAndStrings(file.sql).toLowerCase();
  const deps = new Set<string>();
  for (const other of modelNames) {
    if (other === file.name) continue;
    if (new RegExp(`(?<![a-z0-9_."])${other}(?![a-z0-9_"])`).test(body)) deps.add(other);
  }
  for (const d of (headerValue(file.sql, 'depends_on') ?? '').split(',')) {
    const name = d.trim();
    if (name === '') continue;
    if (!modelNames.includes(name)) throw new Error(`model ${file.name}: depends_on names ${JSON.stringify(name)}, which is not a model`);
    deps.add(name);
  }
  return [...deps].sort();
}

/** Models in an order where each comes after what it depends on; a cycle is an error naming it. */
export function orderModels(files: readonly SqlFile[]): Model[] {
  const names = files.map((f) => f.name);
  const models = new Map(files.map((f) => [f.name, { ...f, dependsOn: inferDependencies(f, names) }]));
  const ordered: Model[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]) => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') throw new Error(`models depend on each other in a cycle: ${[...path, name].join(' -> ')}`);
    state.set(name, 'visiting');
    const m = models.get(name)!;
    for (const d of m.dependsOn) visit(d, [...path, name]);
    state.set(name, 'done');
    ordered.push(m);
  };
  for (const n of [...names].sort()) visit(n, []);
  return ordered;
}
