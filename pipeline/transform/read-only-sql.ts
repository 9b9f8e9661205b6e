/**
 * What keeps `cdrpipe sql` from changing anything: two independent fences around one DuckDB
 * handle.
 *
 * 1. The engine's own sandbox (`lockDown`): no file outside the lake (and a private spill
 *    directory) can be opened, so no ATTACH of state.duckdb, no COPY into reports/, no
 *    INSTALL/LOAD; the configuration is then locked, so no SET can undo it.
 * 2. A statement gate (`assertReadOnlySql`): DuckDB allows writes inside the directories it may
 *    read, so the lake itself is protected by admitting only SELECT statements (FROM-first,
 *    WITH, VALUES, DESCRIBE, SHOW, SUMMARIZE are SELECTs too) whose table functions are known
 *    to only read. The check runs on DuckDB's own parse tree, before anything is bound or run.
 */
import { realpathSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { sqlString, type Db } from '../db/duckdb.ts';
import { CdrpipeError, EXIT } from '../util/errors.ts';

/** A statement `cdrpipe sql` refuses to run: exit 2, the message says what was refused and what to do. */
export class ReadOnlyQueryError extends CdrpipeError {
  override readonly name = 'ReadOnlyQueryError';
  override readonly exitCode = EXIT.usage;
}

/** Table functions that only read (files in the lake, metadata, generated rows). */
const READING_TABLE_FUNCTIONS: ReadonlySet<string> = new Set([
  'read_parquet',
  'parquet_scan',
  'parquet_metadata',
  'parquet_schema',
  'parquet_file_metadata',
  'parquet_kv_metadata',
  'parquet_full_metadata',
  'parquet_bloom_probe',
  'read_csv',
  'read_csv_auto',
  'sniff_csv',
  'read_json',
  'read_json_auto',
  'read_json_objects',
  'read_json_objects_auto',
  'read_ndjson',
  'read_ndjson_auto',
  'read_ndjson_objects',
  'read_text',
  'read_blob',
  'glob',
  'range',
  'generate_series',
  'unnest',
  'repeat',
  'repeat_row',
  'summary',
  'json_each',
  'json_tree',
  'histogram',
  'histogram_values',
  'pg_timezone_names',
  'icu_calendar_names',
  'test_all_types',
  'test_vector_types',
]);
/** Catalog and pragma readers (duckdb_tables, pragma_table_info, ...). */
const READING_PREFIXES = ['duckdb_', 'pragma_'];

/** True when the table function is known to only read. Everything else (enable_logging, checkpoint, query, ...) is refused. */
export function isReadingTableFunction(name: string): boolean {
  const n = name.toLowerCase();
  return READING_TABLE_FUNCTIONS.has(n) || READING_PREFIXES.some((p) => n.startsWith(p));
}

/** Every table function named anywhere in a serialised parse tree (subqueries, CTEs, joins included). */
export function tableFunctionsIn(tree: unknown): string[] {
  const found: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(walk);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const obj = node as Record<string, unknown>;
    if (obj.type === 'TABLE_FUNCTION') {
      const fn = obj.function as { function_name?: unknown } | undefined;
      found.push(typeof fn?.function_name === 'string' ? fn.function_name : '?');
    }
    Object.values(obj).forEach(walk);
  };
  walk(tree);
  return found;
}

interface SerializedSql {
  error: boolean;
  error_type?: string;
  error_message?: string;
  statements?: unknown[];
}

const READ_ONLY_HINT = 'cdrpipe sql is read-only: it runs SELECT queries (also FROM …, WITH …, VALUES, DESCRIBE, SHOW, SUMMARIZE)';

/**
 * Throws ReadOnlyQueryError unless every statement in `sql` is a SELECT that calls only reading
 * table functions; throws a plain Error for SQL that does not parse. Nothing is bound or run.
 */
export async function assertReadOnlySql(db: Db, sql: string): Promise<void> {
  const row = await db.one<{ j: string }>(`SELECT json_serialize_sql($1::VARCHAR) AS j`, [sql]);
  const parsed = JSON.parse(row?.j ?? '{"error":true}') as SerializedSql;
  if (parsed.error) {
    if (/only select statements/i.test(parsed.error_message ?? '')) {
      throw new ReadOnlyQueryError(
        `${READ_ONLY_HINT}; the query holds another kind of statement (COPY, CREATE, INSERT, ATTACH, SET, INSTALL, PIVOT, EXPLAIN, …). To keep a result, use --out FILE.`,
      );
    }
    throw new Error(parsed.error_message ?? 'the query could not be parsed');
  }
  if (!parsed.statements?.length)
    throw new ReadOnlyQueryError('the query is empty: give one SELECT statement, e.g. "SELECT * FROM cdrs LIMIT 10"');
  const refused = [...new Set(tableFunctionsIn(parsed.statements).filter((f) => !isReadingTableFunction(f)))];
  if (refused.length > 0) {
    throw new ReadOnlyQueryError(
      `${READ_ONLY_HINT}; it does not run ${refused.map((f) => `${f}()`).join(', ')}, which can change settings, files or run other SQL.`,
    );
  }
}

/** The directory with a trailing separator, so '/data/lake' does not also admit '/data/lake-old'. */
function dirPrefix(dir: string): string {
  return dir.endsWith(sep) ? dir : dir + sep;
}

/** The path as given (absolute) and with symlinks resolved, since DuckDB compares the text it is handed. */
function spellings(dir: string): string[] {
  const abs = resolve(dir);
  let real = abs;
  try {
    real = realpathSync(abs);
  } catch {
    // Not there yet (an empty data directory): the given spelling is all there is.
  }
  return [...new Set([abs, real])].map(dirPrefix);
}

/**
 * Confines `db` for good: only files under `readDirs` (and `scratchDir`, where DuckDB spills
 * large sorts) can be opened, extensions can be neither installed nor loaded, and the
 * configuration is locked. Call after the views and macros are created; it cannot be undone.
 */
export async function lockDown(db: Db, opts: { readDirs: readonly string[]; scratchDir: string }): Promise<void> {
  const allowed = [...opts.readDirs.flatMap(spellings), ...spellings(opts.scratchDir)];
  await db.run(`SET temp_directory = ${sqlString(resolve(opts.scratchDir))}`);
  await db.run(`SET autoinstall_known_extensions = false`);
  await db.run(`SET autoload_known_extensions = false`);
  await db.run(`SET allowed_directories = [${allowed.map(sqlString).join(', ')}]`);
  await db.run(`SET enable_external_access = false`);
  await db.run(`SET lock_configuration = true`);
}
