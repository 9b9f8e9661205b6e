/**
 * The lake as DuckDB sees it: a `cdrs` view over lake/cdrs (hive partitions month and domain),
 * or an empty view with the contract's columns when the lake has no files yet, so every model
 * still builds (empty).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sqlString, type Db } from '../db/duckdb.ts';
import {
  COMPACTED_PREFIX,
  LAKE_COLUMNS,
  cdrsDir,
  cdrsGlob,
  countedRowsFrom,
  DOMAIN_NAME_COLUMN,
  domainsDir,
  isShortPartitionValue,
} from '../lake/index.ts';

/** The lake's columns with their types (lake/lake-columns.ts), and month: what an empty lake looks like. */
export const EMPTY_CDRS_SELECT = `SELECT
  ${[...LAKE_COLUMNS.map((c) => `NULL::${c.type} AS ${c.name}`), 'NULL::VARCHAR AS month'].join(',\n  ')}
WHERE false`;

/** What a walk of lake/cdrs found: any Parquet file, and any partition under a short name. */
interface LakeScan {
  hasFiles: boolean;
  hasShortNames: boolean;
  /** A compacted month's partition (a short name too): the readers' rule applies. */
  hasCompacted: boolean;
}

function scanLake(dir: string, scan: LakeScan = { hasFiles: false, hasShortNames: false, hasCompacted: false }): LakeScan {
  if (!existsSync(dir)) return scan;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (entry.name.startsWith('domain=') && isShortPartitionValue(entry.name.slice('domain='.length))) scan.hasShortNames = true;
      if (entry.name.startsWith(`domain=${COMPACTED_PREFIX}`)) scan.hasCompacted = true;
      scanLake(join(dir, entry.name), scan);
    } else if (entry.isFile() && entry.name.endsWith('.parquet')) {
      scan.hasFiles = true;
    }
  }
  return scan;
}

/**
 * The lake's rows as a FROM item, or undefined when the lake has no files. `domain` is the full
 * name: the hive value, or the stored `domain_name` where the path holds a short name
 * (lake/partition-path.ts).
 */
export function lakeCdrsSource(dataDir: string): string | undefined {
  const scan = scanLake(cdrsDir(dataDir));
  if (!scan.hasFiles) return undefined;
  return cdrsSourceOver(sqlString(cdrsGlob(dataDir)), scan.hasShortNames, scan.hasCompacted);
}

/**
 * The same rows as {@link lakeCdrsSource}, from these lake files only (absolute paths under
 * lake/cdrs, keeping the month=/domain= layout): the incremental transform's slice of the lake.
 */
export function lakeCdrsSliceSource(paths: readonly string[]): string | undefined {
  if (paths.length === 0) return undefined;
  const segment = (p: string) => /[\\/]domain=([^\\/]+)[\\/][^\\/]+$/.exec(p)?.[1] ?? '';
  return cdrsSourceOver(
    `[${paths.map(sqlString).join(', ')}]`,
    paths.some((p) => isShortPartitionValue(segment(p))),
    paths.some((p) => segment(p).startsWith(COMPACTED_PREFIX)),
  );
}

function cdrsSourceOver(filesSql: string, hasShortNames: boolean, hasCompacted: boolean): string {
  const files = `read_parquet(${filesSql}, hive_partitioning = true, union_by_name = true, hive_types = {'month': VARCHAR, 'domain': VARCHAR})`;
  if (!hasShortNames) return files;
  if (hasCompacted) {
    // Compacted months (lake/compacted-partition.ts): only the rows that count, by the rule every reader applies.
    return `(WITH lake_files AS (SELECT * FROM ${files})
      SELECT f.* EXCLUDE (${DOMAIN_NAME_COLUMN}) REPLACE (coalesce(f.${DOMAIN_NAME_COLUMN}, f.domain) AS domain)
      ${countedRowsFrom('lake_files')})`;
  }
  return `(SELECT * EXCLUDE (${DOMAIN_NAME_COLUMN}) REPLACE (coalesce(${DOMAIN_NAME_COLUMN}, domain) AS domain) FROM ${files})`;
}

/**
 * The statement that creates the view `cdrs` over a lake whose Parquet files were listed already
 * (transform/lake-stamps.ts): the same view as {@link createCdrsView}, without walking the lake again.
 * `segments` are the `domain=` segments of the laid-out files; `anyFile` is false for an empty lake.
 */
export function cdrsViewSql(dataDir: string, opts: { anyFile: boolean; segments: Iterable<string> }, name = 'cdrs'): string {
  let hasShortNames = false;
  let hasCompacted = false;
  for (const s of opts.segments) {
    if (isShortPartitionValue(s)) hasShortNames = true;
    if (s.startsWith(COMPACTED_PREFIX)) hasCompacted = true;
  }
  const source = opts.anyFile ? cdrsSourceOver(sqlString(cdrsGlob(dataDir)), hasShortNames, hasCompacted) : undefined;
  return `CREATE OR REPLACE VIEW ${name} AS ${source ? `SELECT * FROM ${source}` : EMPTY_CDRS_SELECT}`;
}

/**
 * Creates (or replaces) the view `cdrs`. It reads the lake by absolute path, so the warehouse
 * always shows the lake as it is now, while the models show it as of the last transform.
 */
export async function createCdrsView(db: Db, dataDir: string, name = 'cdrs'): Promise<boolean> {
  const source = lakeCdrsSource(dataDir);
  await db.run(`CREATE OR REPLACE VIEW ${name} AS ${source ? `SELECT * FROM ${source}` : EMPTY_CDRS_SELECT}`);
  return source !== undefined;
}

export interface LakeDomain {
  domain: string;
  reseller: string | null;
  description: string | null;
  time_zone: string | null;
}

/**
 * Domain objects from lake/domains/domains.parquet (empty when ingest has not written it yet);
 * with `only`, just those domains.
 */
export async function readLakeDomains(db: Db, dataDir: string, only?: readonly string[]): Promise<LakeDomain[]> {
  const file = join(domainsDir(dataDir), 'domains.parquet');
  if (!existsSync(file)) return [];
  // Only the columns used, picked by name: an older domains.parquet may lack one, which is no reason
  // to fail; and the stored API objects are most of the file, too costly to read for nothing.
  const wanted = "c -> c IN ('domain', 'reseller', 'description', 'time_zone')";
  const rows = only
    ? await db.all(
        `SELECT COLUMNS(${wanted}) FROM read_parquet(${sqlString(file)}) WHERE list_contains(from_json($1::JSON, '["VARCHAR"]'), domain)`,
        [JSON.stringify(only)],
      )
    : await db.all(`SELECT COLUMNS(${wanted}) FROM read_parquet(${sqlString(file)}) WHERE domain IS NOT NULL`);
  const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v : null);
  return rows.map((r) => ({
    domain: String(r.domain),
    reseller: text(r.reseller),
    description: text(r.description),
    time_zone: text(r.time_zone),
  }));
}
