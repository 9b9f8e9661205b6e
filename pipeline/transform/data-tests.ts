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

/** Tests counted in one statement at most: a statement per test cost more than most tests. */
const COUNT_BATCH = 64;

/**
 * Failing-row counts of these queries, all run with the same search path, in one statement per
 * batch; undefined when the batch fails (a query that does not run is then found by running each alone).
 */
async function countBatch(db: Db, queries: readonly string[]): Promise<number[] | undefined> {
  if (queries.length === 0) return [];
  const sql = queries.map((q, i) => `SELECT ${i} AS i, count(*) AS n FROM (${q}\n)`).join('\nUNION ALL\n');
  try {
    const rows = await db.all<{ i: number; n: string | number }>(sql);
    const out = new Array<number>(queries.length).fill(0);
    for (const r of rows) out[Number(r.i)] = Number(r.n);
    return out;
  } catch {
    return undefined;
  }
}

/**
 * Runs each test and collects its result. Tests named in `onSlice` run with `sliceSchema` first on
 * the search path (transform/test-slice.ts), the others on the whole warehouse. The failing-row
 * counts of the tests on the slice are taken in a few statements; samples only for tests that fail.
 */
export async function runDataTests(
  db: Db,
  tests: readonly SqlFile[],
  opts: { sampleSize?: number; onSlice?: ReadonlySet<string>; sliceSchema?: string } = {},
): Promise<DataTestResult[]> {
  const sampleSize = opts.sampleSize ?? 5;
  const results = new Array<DataTestResult>(tests.length);
  const groups = new Map<string | undefined, number[]>();
  tests.forEach((t, i) => {
    const sev = headerValue(t.sql, 'severity');
    if (sev !== undefined && !(SEVERITIES as readonly string[]).includes(sev)) {
      // A mistyped severity must not quietly turn an advisory test into a blocking one, or back.
      results[i] = {
        name: t.name,
        description: describeTest(t),
        severity: 'error',
        status: 'error',
        failingRows: 0,
        sample: [],
        error: `${t.path}: "-- severity: ${sev}" is not one of ${SEVERITIES.join(', ')}`,
      };
      return;
    }
    const schema = opts.sliceSchema !== undefined && opts.onSlice?.has(t.name) === true ? opts.sliceSchema : undefined;
    (groups.get(schema) ?? groups.set(schema, []).get(schema)!).push(i);
  });
  const queryOf = (t: SqlFile) => t.sql.replace(/;\s*$/, '');
  for (const [schema, members] of groups) {
    await db.run(schema !== undefined ? `SET search_path = '${schema},main'` : `RESET search_path`);
    const counts: (number | undefined)[] = [];
    // Only the slice's tests share a statement: each reads a few domain-months, while tests over the
    // whole warehouse in one statement would hold every scan's hash tables at once.
    for (let b = 0; schema !== undefined && b < members.length; b += COUNT_BATCH) {
      const part = members.slice(b, b + COUNT_BATCH);
      counts.push(
        ...((await countBatch(
          db,
          part.map((i) => queryOf(tests[i]!)),
        )) ?? part.map(() => undefined)),
      );
    }
    for (const [k, i] of members.entries()) {
      const t = tests[i]!;
      const severity: Severity = headerValue(t.sql, 'severity') === 'warn' ? 'warn' : 'error';
      const base = { name: t.name, description: describeTest(t), severity };
      const query = queryOf(t);
      try {
        let failingRows = counts[k];
        if (failingRows === undefined) {
          const count = await db.one<{ n: string | number }>(`SELECT count(*) AS n FROM (${query}\n)`);
          failingRows = Number(count?.n ?? 0);
        }
        // Ordered, so the sample is the same whichever way the tables were built (in full or incrementally).
        const sample = failingRows > 0 ? await db.all(`SELECT * FROM (${query}\n) ORDER BY ALL LIMIT ${sampleSize}`) : [];
        results[i] = { ...base, status: failingRows === 0 ? 'pass' : severity === 'warn' ? 'warn' : 'fail', failingRows, sample };
      } catch (err) {
        results[i] = { ...base, status: 'error', failingRows: 0, sample: [], error: err instanceof Error ? err.message : String(err) };
      }
    }
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
 * For the report stage: reads data_test_results from the warehouse (READ_ONLY) and throws
 * DataTestFailedError when a blocking test failed, or an Error when there is no warehouse yet.
 */
export async function assertWarehouseTestsPass(dataDir: string): Promise<void> {
  const path = warehousePath(dataDir);
  if (!existsSync(path)) throw new Error(`no warehouse at ${path}: run \`cdrpipe transform\` first`);
  const rows = await withDb(path, (db) => db.all(`SELECT * FROM data_test_results`), { readOnly: true });
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
