/**
 * dbt-style data tests: each reports/models/tests/*.sql selects the rows that break a rule, so an
 * empty result passes. A `-- severity: warn` header makes failures warnings that do not block
 * reports; the first comment line is the description shown with failures.
 */
import { existsSync } from 'node:fs';
import { withDb, type Db, type JsonRow } from '../db/duckdb.ts';
import { CdrpipeError } from '../util/errors.ts';
import { warehousePath } from '../lake/index.ts';
import { headerValue, type SqlFile } from './model-graph.ts';
import { insertRows } from './insert-rows.ts';

export const SEVERITIES = ['error', 'warn'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface DataTestResult {
  name: string;
  description: string;
  severity: Severity;
  status: 'pass' | 'fail' | 'warn' | 'error';
  failingRows: number;
  /** Up to `sampleSize` failing rows, JSON-safe. */
  sample: JsonRow[];
  /** Set when the test query itself could not run. */
  error?: string;
}

/** Thrown when reports must not go out because a data test with severity error failed. */
export class DataTestFailedError extends CdrpipeError {
  override readonly name = 'DataTestFailedError';
  constructor(readonly failures: DataTestResult[]) {
    super(
      `data tests failed, reports must not be sent until fixed: ` +
        failures
          .map((f) => `${f.name} (${f.error ?? `${f.failingRows} failing rows, e.g. ${JSON.stringify(f.sample[0] ?? {})}`})`)
          .join('; ') +
        `. Inspect with: cdrpipe sql "SELECT * FROM data_test_results"`,
    );
  }
}

/**
 * What a test checks: its first comment paragraph (consecutive comment lines), header lines such as
 * `-- severity: warn` left out; the test's name when it has none.
 */
export function describeTest(file: SqlFile): string {
  const lines: string[] = [];
  for (const line of file.sql.split('\n')) {
    const m = /^[ \t]*--[ \t]*(.*)$/.exec(line);
    if (!m) {
      if (lines.length > 0 || line.trim() !== '') break;
      continue;
    }
    const text = m[1]!.trim();
    if (/^(severity|depends_on|incremental)[ \t]*:/.test(text)) continue;
    if (text === '') {
      if (lines.length > 0) break;
      continue;
    }
    lines.push(text);
  }
  return lines.length > 0 ? lines.join(' ') : file.name;
}

/** Tests on a slice counted in one statement by default: each costs a few milliseconds alone, mostly the statement's own. */
export const SLICE_BATCH = 25;

/**
 * The failing-row counts of tests run on the changed slices (transform/test-slice.ts), several
 * tests per statement, each with the search path its slice needs. A statement that fails counts
 * nothing: its tests are run one by one, which names the one at fault. Tests on the whole
 * warehouse are left to run alone (in a full build one may read the whole lake).
 */
async function countSliceTests(
  db: Db,
  tests: readonly { name: string; query: string; schema: string }[],
  perStatement: number,
  onBatch: (names: readonly string[], ms: number) => void,
): Promise<Map<string, number>> {
  if (perStatement <= 1) return new Map();
  const counts = new Map<string, number>();
  const bySchema = new Map<string, { name: string; query: string }[]>();
  for (const t of tests) bySchema.set(t.schema, [...(bySchema.get(t.schema) ?? []), t]);
  for (const [schema, group] of bySchema) {
    await db.run(`SET search_path = '${schema},main'`);
    for (let i = 0; i < group.length; i += perStatement) {
      const batch = group.slice(i, i + perStatement);
      const t0 = performance.now();
      try {
        const row = await db.one<Record<string, string | number>>(
          `SELECT ${batch.map((t, j) => `(SELECT count(*) FROM (${t.query}\n)) AS n${j}`).join(',\n')}`,
        );
        batch.forEach((t, j) => counts.set(t.name, Number(row?.[`n${j}`] ?? 0)));
      } catch {
        // Run alone below.
      }
      onBatch(
        batch.map((t) => t.name),
        performance.now() - t0,
      );
    }
  }
  return counts;
}

/**
 * Runs each test and collects its result. A test named in `onSlice` runs with the schema it maps to
 * first on the search path (transform/test-slice.ts), the others on the whole warehouse. A test
 * named in `kept` is not run: the caller knows running it would pass (transform/test-scope.ts).
 */
export async function runDataTests(
  db: Db,
  tests: readonly SqlFile[],
  opts: {
    sampleSize?: number;
    onSlice?: ReadonlyMap<string, string>;
    kept?: ReadonlySet<string>;
    /**
     * Tests on a slice counted in one statement (SLICE_BATCH by default; 1: each alone). Each holds
     * its own hash tables while the statement runs, so a large slice wants them one at a time.
     */
    slicePerStatement?: number;
    onTest?: (name: string, ms: number) => void;
  } = {},
): Promise<DataTestResult[]> {
  const sampleSize = opts.sampleSize ?? 5;
  const results: DataTestResult[] = [];
  const batchMs = new Map<string, number>();
  const counted = await countSliceTests(
    db,
    tests.flatMap((t) => {
      const schema = opts.onSlice?.get(t.name);
      return schema !== undefined && !opts.kept?.has(t.name) ? [{ name: t.name, query: t.sql.replace(/;\s*$/, ''), schema }] : [];
    }),
    opts.slicePerStatement ?? SLICE_BATCH,
    (names, ms) => names.forEach((n) => batchMs.set(n, ms / names.length)),
  );
  // The search path is set only when the next test needs another.
  let path: string | undefined;
  const usePath = async (schema: string | undefined) => {
    const want = schema !== undefined ? `SET search_path = '${schema},main'` : `RESET search_path`;
    if (path === want) return;
    await db.run(want);
    path = want;
  };
  for (const t of tests) {
    const sliceSchema = opts.onSlice?.get(t.name);
    const sev = headerValue(t.sql, 'severity');
    const severity: Severity = sev === 'warn' ? 'warn' : 'error';
    const query = t.sql.replace(/;\s*$/, '');
    const base = { name: t.name, description: describeTest(t), severity };
    if (sev !== undefined && !(SEVERITIES as readonly string[]).includes(sev)) {
      // A mistyped severity must not quietly turn an advisory test into a blocking one, or back.
      results.push({
        ...base,
        status: 'error',
        failingRows: 0,
        sample: [],
        error: `${t.path}: "-- severity: ${sev}" is not one of ${SEVERITIES.join(', ')}`,
      });
      continue;
    }
    if (opts.kept?.has(t.name)) {
      results.push({ ...base, status: 'pass', failingRows: 0, sample: [] });
      continue;
    }
    const t0 = performance.now();
    try {
      const known = counted.get(t.name);
      if (known === undefined || known > 0) await usePath(sliceSchema);
      const failingRows = known ?? Number((await db.one<{ n: string | number }>(`SELECT count(*) AS n FROM (${query}\n)`))?.n ?? 0);
      // Ordered, so the sample is the same whichever way the tables were built (in full or incrementally).
      const sample = failingRows > 0 ? await db.all(`SELECT * FROM (${query}\n) ORDER BY ALL LIMIT ${sampleSize}`) : [];
      results.push({ ...base, status: failingRows === 0 ? 'pass' : severity === 'warn' ? 'warn' : 'fail', failingRows, sample });
    } catch (err) {
      results.push({ ...base, status: 'error', failingRows: 0, sample: [], error: err instanceof Error ? err.message : String(err) });
    }
    opts.onTest?.(t.name, performance.now() - t0 + (batchMs.get(t.name) ?? 0));
  }
  await db.run(`RESET search_path`);
  return results;
}

/** Results stored in the warehouse so later stages can check them without re-running. */
export async function storeDataTestResults(db: Db, results: readonly DataTestResult[], checkedAt: Date): Promise<void> {
  await db.run(`CREATE OR REPLACE TABLE data_test_results (
    name VARCHAR, description VARCHAR, severity VARCHAR, status VARCHAR, failing_rows BIGINT,
    sample JSON, error VARCHAR, checked_at TIMESTAMPTZ)`);
  // One statement per few hundred results: a statement per test cost more than most tests.
  await insertRows(
    db,
    'data_test_results',
    ['name', 'description', 'severity', 'status', 'failing_rows', 'sample', 'error', 'checked_at'],
    results.map((r) => [
      r.name,
      r.description,
      r.severity,
      r.status,
      r.failingRows,
      JSON.stringify(r.sample),
      r.error ?? null,
      checkedAt.toISOString(),
    ]),
  );
}

/** The blocking failures among results: severity error that failed or could not run. */
export function blockingFailures(results: readonly DataTestResult[]): DataTestResult[] {
  return results.filter((r) => r.status === 'fail' || r.status === 'error');
}

/** Throws DataTestFailedError when any blocking test failed. */
export function assertDataTestsPass(results: readonly DataTestResult[]): void {
  const failures = blockingFailures(results);
  if (failures.length > 0) throw new DataTestFailedError(failures);
}

/**
 * For the report stage: reads data_test_results from the warehouse (READ_ONLY, or through the
 * caller's open `warehouse`) and throws DataTestFailedError when a blocking test failed, or an
 * Error when there is no warehouse yet.
 */
export async function assertWarehouseTestsPass(dataDir: string, warehouse?: Db): Promise<void> {
  const path = warehousePath(dataDir);
  if (!existsSync(path)) throw new Error(`no warehouse at ${path}: run \`cdrpipe transform\` first`);
  const sql = `SELECT * FROM data_test_results`;
  const rows = warehouse ? await warehouse.all(sql) : await withDb(path, (db) => db.all(sql), { readOnly: true });
  assertDataTestsPass(
    rows.map((r) => ({
      name: String(r.name),
      description: String(r.description),
      severity: r.severity === 'warn' ? 'warn' : 'error',
      status: r.status as DataTestResult['status'],
      failingRows: Number(r.failing_rows),
      sample: typeof r.sample === 'string' ? (JSON.parse(r.sample) as JsonRow[]) : ((r.sample as JsonRow[] | null) ?? []),
      ...(r.error ? { error: String(r.error) } : {}),
    })),
  );
}
