/**
 * The build manifest: what a warehouse was built from, stored in the warehouse itself so it is
 * published with the build it describes (atomically, by the same rename).
 *
 * - `build_manifest` (key, value): the manifest format, the DuckDB version and the macros' hash.
 *   Any difference makes the next transform a full build.
 * - `build_manifest_files` (domain, utc_month, file, stamp): every lake file and its stamp.
 * - `build_manifest_months` (domain, local_month, files_fp, domain_fp, plan_fp, closed): one row per
 *   domain-month the lake can feed, fingerprinting every input of that domain-month: the stamps of
 *   the lake files of every UTC month that overlaps the local month, the domain's row of `domains`
 *   (time zone, names, settings), the plan it is rated with (the frozen rating for a frozen month,
 *   else the domain's current plan, with the plan version's content hash), and whether the month had
 *   closed when the build ran.
 * - `build_manifest_models` (name, sql_sha256, incremental).
 * - `build_manifest_tests` (name, sql_sha256): the data tests the build ran; with the build's
 *   `data_test_results`, what lets the next build run a test on the changed slice only
 *   (transform/test-scope.ts).
 *
 * A domain-month whose row differs from the previous build's, or that appears or disappears, is
 * recomputed; the rest are kept.
 */
import { sqlString, type Db } from '../db/duckdb.ts';
import { encodePartitionValue } from '../lake/index.ts';
import { insertRows } from './insert-rows.ts';
import type { LakeFileStamp } from './lake-stamps.ts';
import type { PreviousTest } from './test-scope.ts';

/** Bump when the manifest's meaning changes: the next transform is then a full build. */
export const MANIFEST_FORMAT = '2';

export const MANIFEST_TABLES = [
  'build_manifest',
  'build_manifest_files',
  'build_manifest_months',
  'build_manifest_models',
  'build_manifest_tests',
] as const;

/** Why a domain-month is recomputed. */
export const CHANGE_REASONS = ['new', 'gone', 'lake', 'domain', 'plan', 'closed', 'duplicate_id'] as const;
export type ChangeReason = (typeof CHANGE_REASONS)[number];

/** First instant of a UTC month and of the month after, as ISO text. */
export function utcMonthBounds(month: string): { start: string; next: string } {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const next = m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
  return { start: `${month}-01T00:00:00Z`, next: `${next}-01T00:00:00Z` };
}

/**
 * Loads the lake stamps as `incr_files` (temp) with the full domain name of each partition, taken
 * from `domains` (every domain of the lake is there). Returns the segments no domain encodes to
 * (then the build cannot slice the lake and must be full).
 */
export async function loadLakeStamps(db: Db, files: readonly LakeFileStamp[]): Promise<string[]> {
  const domains = await db.all<{ domain: string }>(`SELECT domain FROM domains`);
  const bySegment = new Map<string, string>();
  for (const { domain } of domains) {
    try {
      bySegment.set(encodePartitionValue(domain), domain);
    } catch {
      // A name no partition can have (empty, "."): it feeds no file.
    }
  }
  const unknown = new Set<string>();
  const rows: { domain: string; utc_month: string; file: string; path: string; stamp: string; month_start: string; next_start: string }[] =
    [];
  for (const f of files) {
    const domain = bySegment.get(f.domainSegment);
    if (domain === undefined) {
      unknown.add(f.domainSegment);
      continue;
    }
    const b = utcMonthBounds(f.utcMonth);
    rows.push({ domain, utc_month: f.utcMonth, file: f.file, path: f.path, stamp: f.stamp, month_start: b.start, next_start: b.next });
  }
  // One JSON parameter: thousands of bound parameters cost more than the rest of the manifest.
  await db.run(
    `CREATE OR REPLACE TEMP TABLE incr_files AS
     SELECT domain, utc_month, file, path, stamp, month_start::TIMESTAMPTZ AS month_start, next_start::TIMESTAMPTZ AS next_start
     FROM (SELECT unnest(from_json($1::JSON, '[{"domain":"VARCHAR","utc_month":"VARCHAR","file":"VARCHAR","path":"VARCHAR","stamp":"VARCHAR","month_start":"VARCHAR","next_start":"VARCHAR"}]'), recursive := true))`,
    [JSON.stringify(rows)],
  );
  return [...unknown].sort();
}

/**
 * `incr_parts` (domain, utc_month, local_month): the local months each UTC partition can feed, in
 * the domain's time zone (a UTC month overlaps at most two local months). Then `incr_months`: the
 * fingerprints of every such domain-month. Needs `incr_files` and the input tables.
 */
export async function computeMonthFingerprints(db: Db): Promise<void> {
  await db.run(`CREATE OR REPLACE TEMP TABLE incr_parts AS
    SELECT DISTINCT f.domain, f.utc_month, strftime(f.month_start AT TIME ZONE d.time_zone, '%Y-%m') AS local_month
    FROM (SELECT DISTINCT domain, utc_month, month_start FROM incr_files) AS f JOIN domains AS d USING (domain)
    UNION
    SELECT DISTINCT f.domain, f.utc_month, strftime((f.next_start - INTERVAL 1 MICROSECOND) AT TIME ZONE d.time_zone, '%Y-%m')
    FROM (SELECT DISTINCT domain, utc_month, next_start FROM incr_files) AS f JOIN domains AS d USING (domain)`);
  await db.run(`CREATE OR REPLACE TEMP TABLE incr_months AS
    WITH files AS (
      SELECT p.domain, p.local_month, md5(string_agg(f.file || '|' || f.stamp, ',' ORDER BY f.file)) AS files_fp
      FROM incr_parts AS p JOIN incr_files AS f ON f.domain = p.domain AND f.utc_month = p.utc_month
      GROUP BY p.domain, p.local_month
    )
    SELECT
      x.domain,
      x.local_month,
      x.files_fp,
      md5(to_json(d)::VARCHAR) AS domain_fp,
      -- A frozen month is rated with its frozen version whatever the domain's current plan is.
      md5(coalesce(to_json(fr)::VARCHAR, to_json(dp)::VARCHAR, '') || '|' || coalesce(to_json(p)::VARCHAR, '')) AS plan_fp,
      (strptime(x.local_month || '-01', '%Y-%m-%d') + INTERVAL 1 MONTH) AT TIME ZONE d.time_zone
        <= (SELECT max(built_at) FROM build_info) AS closed
    FROM files AS x
    JOIN domains AS d ON d.domain = x.domain
    LEFT JOIN frozen_ratings AS fr ON fr.domain = x.domain AND fr.local_month = x.local_month
    LEFT JOIN domain_plans AS dp ON dp.domain = x.domain
    LEFT JOIN plans AS p ON p.plan_id = coalesce(fr.plan_id, dp.plan_id) AND p.plan_version = coalesce(fr.plan_version, dp.plan_version)`);
}

/**
 * `incr_changed` (domain, local_month, reason): the domain-months whose fingerprints differ from
 * the previous build's `build_manifest_months` (in the database being patched).
 */
export async function diffMonths(db: Db): Promise<void> {
  await db.run(`CREATE OR REPLACE TEMP TABLE incr_changed AS
    SELECT * FROM (
      SELECT
        coalesce(n.domain, o.domain) AS domain,
        coalesce(n.local_month, o.local_month) AS local_month,
        CASE
          WHEN o.domain IS NULL THEN 'new'
          WHEN n.domain IS NULL THEN 'gone'
          WHEN n.files_fp <> o.files_fp THEN 'lake'
          WHEN n.domain_fp <> o.domain_fp THEN 'domain'
          WHEN n.plan_fp <> o.plan_fp THEN 'plan'
          WHEN n.closed <> o.closed THEN 'closed'
        END AS reason
      FROM incr_months AS n
      FULL JOIN main.build_manifest_months AS o ON o.domain = n.domain AND o.local_month = n.local_month
    )
    WHERE reason IS NOT NULL`);
}

/** Lake files of the changed domain-months (every UTC partition that can feed one). */
export async function changedFiles(db: Db): Promise<{ domain: string; path: string }[]> {
  return db.all<{ domain: string; path: string }>(
    `SELECT DISTINCT f.domain, f.path FROM incr_files AS f
     JOIN incr_parts AS p ON p.domain = f.domain AND p.utc_month = f.utc_month
     JOIN incr_changed AS c ON c.domain = p.domain AND c.local_month = p.local_month
     ORDER BY f.path`,
  );
}

/**
 * A CDR id stored in two partitions of one domain (a start time corrected across a month boundary)
 * is billed once, in its latest version, so changed files and the domain's other files are read
 * together. Returns the domains where an id of a changed file is also in another file of the domain;
 * those domains are then recomputed whole.
 */
export async function domainsWithIdsElsewhere(db: Db, read: readonly { domain: string; path: string }[]): Promise<string[]> {
  const byDomain = new Map<string, Set<string>>();
  for (const r of read) byDomain.set(r.domain, (byDomain.get(r.domain) ?? new Set()).add(r.path));
  if (byDomain.size === 0) return [];
  // Few statements for all domains: two per domain were a tenth of a small tick.
  const files = await db.all<{ domain: string; path: string }>(
    `SELECT domain, path FROM incr_files WHERE list_contains(from_json($1::JSON, '["VARCHAR"]'), domain) ORDER BY domain, path`,
    [JSON.stringify([...byDomain.keys()])],
  );
  const list = (ps: Iterable<string>) => `[${[...ps].map(sqlString).join(', ')}]`;
  const checks: string[] = [];
  for (const [domain, readPaths] of byDomain) {
    const others = files.filter((f) => f.domain === domain && !readPaths.has(f.path)).map((f) => f.path);
    if (others.length === 0) continue;
    checks.push(
      `SELECT ${sqlString(domain)} AS domain WHERE EXISTS (SELECT 1 FROM (SELECT DISTINCT id FROM read_parquet(${list(readPaths)})) AS a
       SEMI JOIN (SELECT DISTINCT id FROM read_parquet(${list(others)})) AS b ON a.id = b.id)`,
    );
  }
  // A few domains per statement: each branch holds its own hash tables, and a build that recomputes
  // every domain (the first after a month closes) ran out of memory with all of them in one.
  const out: string[] = [];
  for (let i = 0; i < checks.length; i += DUPLICATE_CHECKS_PER_STATEMENT) {
    const hits = await db.all<{ domain: string }>(checks.slice(i, i + DUPLICATE_CHECKS_PER_STATEMENT).join('\nUNION ALL\n'));
    out.push(...hits.map((h) => h.domain));
  }
  return out.sort();
}

/** Domains checked for duplicated ids in one statement (a tick touches about this many). */
const DUPLICATE_CHECKS_PER_STATEMENT = 10;

/** Marks every domain-month (now or before) of these domains changed, reason duplicate_id. */
export async function markDomainsChanged(db: Db, domains: readonly string[]): Promise<void> {
  if (domains.length === 0) return;
  const list = `from_json(${sqlString(JSON.stringify(domains))}, '["VARCHAR"]')`;
  await db.run(`INSERT INTO incr_changed
    SELECT x.domain, x.local_month, 'duplicate_id' FROM (
      SELECT domain, local_month FROM incr_months WHERE list_contains(${list}, domain)
      UNION
      SELECT domain, local_month FROM main.build_manifest_months WHERE list_contains(${list}, domain)
    )
    AS x WHERE NOT EXISTS (SELECT 1 FROM incr_changed AS c WHERE c.domain = x.domain AND c.local_month = x.local_month)`);
}

/** Counts of changed domain-months by reason. */
export async function changeCounts(db: Db): Promise<Partial<Record<ChangeReason, number>>> {
  const rows = await db.all<{ reason: ChangeReason; n: number }>(
    `SELECT reason, count(*)::INTEGER AS n FROM incr_changed GROUP BY reason ORDER BY reason`,
  );
  return Object.fromEntries(rows.map((r) => [r.reason, Number(r.n)]));
}

/** Replaces the manifest tables with this build's. */
export async function writeManifest(
  db: Db,
  global: Record<string, string>,
  models: readonly { name: string; sqlSha256: string; incremental: boolean }[],
  tests: readonly { name: string; sqlSha256: string }[],
): Promise<void> {
  await db.run(`CREATE OR REPLACE TABLE main.build_manifest (key VARCHAR PRIMARY KEY, value VARCHAR)`);
  await insertRows(
    db,
    'build_manifest',
    ['key', 'value'],
    Object.entries(global).sort(([a], [b]) => a.localeCompare(b)),
  );
  await db.run(`CREATE OR REPLACE TABLE main.build_manifest_files AS
    SELECT domain, utc_month, file, stamp FROM incr_files ORDER BY domain, utc_month, file`);
  await db.run(`CREATE OR REPLACE TABLE main.build_manifest_months AS SELECT * FROM incr_months ORDER BY domain, local_month`);
  await db.run(`CREATE OR REPLACE TABLE main.build_manifest_models (name VARCHAR PRIMARY KEY, sql_sha256 VARCHAR, incremental BOOLEAN)`);
  await insertRows(
    db,
    'build_manifest_models',
    ['name', 'sql_sha256', 'incremental'],
    models.map((m) => [m.name, m.sqlSha256, m.incremental]),
  );
  await db.run(`CREATE OR REPLACE TABLE main.build_manifest_tests (name VARCHAR PRIMARY KEY, sql_sha256 VARCHAR)`);
  await insertRows(
    db,
    'build_manifest_tests',
    ['name', 'sql_sha256'],
    [...tests].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((t) => [t.name, t.sqlSha256]),
  );
}

/**
 * What the build being patched recorded of each data test: its SQL's hash and its status. Read
 * before this build replaces the manifest and the results; empty when either table is missing.
 */
export async function readPreviousTests(db: Db): Promise<Map<string, PreviousTest>> {
  const have = await db.all<{ name: string }>(
    `SELECT table_name AS name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name IN ('build_manifest_tests', 'data_test_results')`,
  );
  if (have.length < 2) return new Map();
  const rows = await db.all<{ name: string; sql_sha256: string; status: PreviousTest['status'] }>(
    `SELECT t.name, t.sql_sha256, r.status FROM main.build_manifest_tests AS t JOIN main.data_test_results AS r USING (name)`,
  );
  return new Map(rows.map((r) => [r.name, { sqlSha256: r.sql_sha256, status: r.status }]));
}

/** The lake files the build recorded, each with its stamp (keyed by the path under lake/cdrs). */
export async function readManifestFiles(db: Db): Promise<Map<string, string>> {
  const rows = await db.all<{ file: string; stamp: string }>(`SELECT file, stamp FROM main.build_manifest_files`);
  return new Map(rows.map((r) => [r.file, r.stamp]));
}

/** The previous build's global manifest and models, or undefined when it has none (built before manifests). */
export async function readManifest(
  db: Db,
): Promise<{ global: Record<string, string>; models: Map<string, { sqlSha256: string; incremental: boolean }> } | undefined> {
  const have = await db.all<{ name: string }>(
    `SELECT table_name AS name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name LIKE 'build_manifest%'`,
  );
  // A manifest of an older format may lack later tables: its format then makes the build full.
  if (!['build_manifest', 'build_manifest_models'].every((t) => have.some((h) => h.name === t))) return undefined;
  const global = Object.fromEntries(
    (await db.all<{ key: string; value: string }>(`SELECT key, value FROM main.build_manifest`)).map((r) => [r.key, r.value]),
  );
  const models = new Map(
    (await db.all<{ name: string; sql_sha256: string; incremental: boolean }>(`SELECT * FROM main.build_manifest_models`)).map((r) => [
      r.name,
      { sqlSha256: r.sql_sha256, incremental: r.incremental },
    ]),
  );
  return { global, models };
}
