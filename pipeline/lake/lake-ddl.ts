/**
 * The statements that expose the lake (lake/cdrs) as a table or view named `cdrs` in the query
 * engines analysts already run. Generated from LAKE_COLUMNS, the one column list the writer uses,
 * so a column added to the lake reaches every engine's DDL with it.
 */
import { LAKE_COLUMNS, type LakeColumn } from './lake-columns.ts';
import { countedRowsDuckdbSql, countedRowsSql, type CountedRowsOptions } from './counted-rows-sql.ts';
import { DOMAIN_NAME_COLUMN } from './layout.ts';
import { UsageError } from '../util/errors.ts';

export const LAKE_DDL_ENGINES = ['duckdb', 'athena', 'trino', 'spark', 'clickhouse'] as const;
export type LakeDdlEngine = (typeof LAKE_DDL_ENGINES)[number];

/** True when `value` names an engine `cdrpipe lake ddl` writes statements for. */
export function isLakeDdlEngine(value: string): value is LakeDdlEngine {
  return (LAKE_DDL_ENGINES as readonly string[]).includes(value);
}

/** Where the lake is, as the engine will be told: a local directory or an object-store URL. */
export type LakeLocation = { kind: 'local'; path: string } | { kind: 's3'; bucket: string; prefix: string };

export interface LakeDdlOptions {
  engine: LakeDdlEngine;
  /** The lake root: the directory (or bucket prefix) that holds `cdrs/`. */
  location: LakeLocation;
  /** `month` partition values present now, oldest first (Athena's projection range starts at the first). */
  months?: readonly string[];
  /** Hive `domain` values present now (Athena's projection enumerates them). */
  domains?: readonly string[];
  /** The S3 endpoint for stores other than AWS (path-style URLs), e.g. http://minio:9000. */
  endpoint?: string;
  /** The AWS region (virtual-hosted URLs for ClickHouse). */
  region?: string;
}

/** A location or value that cannot be written into a statement safely. */
export class LakeDdlError extends UsageError {}

type TypeMap = Record<LakeColumn['type'], string>;

const TYPES: Record<LakeDdlEngine, TypeMap> = {
  duckdb: { VARCHAR: 'VARCHAR', INTEGER: 'INTEGER', TIMESTAMPTZ: 'TIMESTAMPTZ', JSON: 'JSON' },
  // Athena (engine v3) reads Parquet INT64 microsecond timestamps as `timestamp`; JSON is text to it.
  athena: { VARCHAR: 'string', INTEGER: 'int', TIMESTAMPTZ: 'timestamp', JSON: 'string' },
  // The Hive connector accepts `timestamp` columns only (no time zone); the values are UTC instants.
  trino: { VARCHAR: 'varchar', INTEGER: 'integer', TIMESTAMPTZ: 'timestamp(3)', JSON: 'varchar' },
  spark: { VARCHAR: 'STRING', INTEGER: 'INT', TIMESTAMPTZ: 'TIMESTAMP', JSON: 'STRING' },
  clickhouse: {
    VARCHAR: 'Nullable(String)',
    INTEGER: 'Nullable(Int32)',
    TIMESTAMPTZ: "Nullable(DateTime64(6, 'UTC'))",
    JSON: 'Nullable(String)',
  },
};

/** The columns inside the lake's files, in file order: `domain` and `month` live in the path only. */
export function lakeFileColumns(): { name: string; type: LakeColumn['type'] }[] {
  return [
    ...LAKE_COLUMNS.filter((c) => c.name !== 'domain').map((c) => ({ name: c.name, type: c.type })),
    // Present only in files under a short partition name (partition-path.ts); NULL elsewhere.
    { name: DOMAIN_NAME_COLUMN, type: 'VARCHAR' as const },
  ];
}

const sqlText = (value: string) => `'${value.replaceAll("'", "''")}'`;

function checkPrintable(what: string, value: string): string {
  // Control characters in a path or URL would end up inside a statement an analyst pastes.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new LakeDdlError(`${what} ${JSON.stringify(value)}: contains a control character`);
  return value;
}

/** Parses `s3://bucket/prefix` (prefix optional); anything else is a local directory. */
export function parseLakeLocation(value: string): LakeLocation {
  checkPrintable('--location', value);
  if (/^s3a?:\/\//i.test(value)) {
    const m = /^s3a?:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/i.exec(value);
    if (!m) throw new LakeDdlError(`--location ${JSON.stringify(value)}: expected s3://bucket/prefix with a valid bucket name`);
    return { kind: 's3', bucket: m[1]!, prefix: (m[2] ?? '').replace(/\/+$/, '') };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    throw new LakeDdlError(`--location ${JSON.stringify(value)}: only local directories and s3:// URLs are supported`);
  }
  return { kind: 'local', path: value.replace(/\/+$/, '') || '/' };
}

/** The `cdrs/` directory as a URL in the scheme an engine expects. */
function cdrsUrl(location: LakeLocation, scheme: 's3' | 's3a' | 'file'): string {
  if (location.kind === 'local') return scheme === 'file' ? `file://${location.path}/cdrs` : `${location.path}/cdrs`;
  const prefix = location.prefix === '' ? '' : `${location.prefix}/`;
  return `${scheme}://${location.bucket}/${prefix}cdrs`;
}

/** An HTTPS URL of `cdrs/` (ClickHouse's s3() takes URLs, not s3:// names). */
function cdrsHttpUrl(location: Extract<LakeLocation, { kind: 's3' }>, endpoint?: string, region?: string): string {
  const prefix = location.prefix === '' ? '' : `${location.prefix}/`;
  if (endpoint) return `${endpoint.replace(/\/+$/, '')}/${location.bucket}/${prefix}cdrs`;
  return `https://${location.bucket}.s3.${region ?? 'us-east-1'}.amazonaws.com/${prefix}cdrs`;
}

/** The file columns a `cdrs` view shows (domain_name is folded into domain). */
const shownColumns = () =>
  lakeFileColumns()
    .filter((c) => c.name !== DOMAIN_NAME_COLUMN)
    .map((c) => c.name);

/** The view `name` over `files`: the rows that count, `domain` the full name (lake/counted-rows-sql.ts). */
const countedView = (create: string, files: string, form: CountedRowsOptions['form'] = 'joins') =>
  `${create} AS\n${countedRowsSql(files, shownColumns(), { form })};`;

const VIEW_NOTE = [
  '-- `cdrs`: the rows that count. `domain` is the full name (domain_name where the path holds a short',
  "-- or compacted partition); a compacted month's newest generation counts for every domain without",
  '-- a partition of its own that month (see the lake manual: compaction).',
];

function columnList(engine: LakeDdlEngine, indent = '  '): string {
  return lakeFileColumns()
    .map((c) => `${indent}${c.name} ${TYPES[engine][c.type]}`)
    .join(',\n');
}

function duckdbDdl(o: LakeDdlOptions): string {
  const lines: string[] = [];
  if (o.location.kind === 's3') {
    lines.push(
      '-- Needs the httpfs extension (INSTALL httpfs; LOAD httpfs;) and credentials, e.g.:',
      `CREATE SECRET IF NOT EXISTS cdrpipe_lake (TYPE s3, PROVIDER credential_chain${o.endpoint ? `, ENDPOINT ${sqlText(o.endpoint.replace(/^https?:\/\//, ''))}, URL_STYLE 'path', USE_SSL ${o.endpoint.startsWith('https') ? 'true' : 'false'}` : ''}${o.region ? `, REGION ${sqlText(o.region)}` : ''});`,
    );
  }
  const glob = `${cdrsUrl(o.location, 's3')}/**/*.parquet`;
  lines.push(
    `CREATE OR REPLACE VIEW cdrs_files AS SELECT * FROM read_parquet(${sqlText(glob)}, hive_partitioning = true, union_by_name = true,`,
    `  hive_types = {'month': VARCHAR, 'domain': VARCHAR})`,
    // A lake without long or compacted partitions has no domain_name in any file: the column is added, empty.
    `UNION ALL BY NAME SELECT NULL::VARCHAR AS ${DOMAIN_NAME_COLUMN} WHERE false;`,
    ...VIEW_NOTE,
    'CREATE OR REPLACE VIEW cdrs AS',
    `${countedRowsDuckdbSql('cdrs_files', cdrsUrl(o.location, 's3'))};`,
  );
  return lines.join('\n');
}

function athenaDdl(o: LakeDdlOptions): string {
  if (o.location.kind !== 's3')
    throw new LakeDdlError('--engine athena: Athena reads object storage only; pass --location s3://bucket/prefix');
  const root = cdrsUrl(o.location, 's3');
  const firstMonth = o.months?.[0] ?? '2020-01';
  const domains = [...(o.domains ?? [])];
  for (const d of domains) {
    // Enumerated projection values are a comma-separated list: a comma in a value would split it.
    if (!/^[A-Za-z0-9._%~-]+$/.test(d)) throw new LakeDdlError(`domain partition ${JSON.stringify(d)}: not a hive path value`);
  }
  const domainProjection =
    domains.length > 0
      ? [`  'projection.domain.type' = 'enum',`, `  'projection.domain.values' = ${sqlText(domains.join(','))},`]
      : [`  'projection.domain.type' = 'injected',`];
  return [
    '-- Partition projection: no crawler or MSCK REPAIR needed. `domain` enumerates the domains in the',
    '-- lake now: run `cdrpipe lake ddl --engine athena` again (or switch to injected) when domains are added.',
    'CREATE EXTERNAL TABLE IF NOT EXISTS cdrs_files (',
    columnList('athena'),
    ')',
    'PARTITIONED BY (month string, domain string)',
    'STORED AS PARQUET',
    `LOCATION ${sqlText(`${root}/`)}`,
    'TBLPROPERTIES (',
    `  'projection.enabled' = 'true',`,
    `  'projection.month.type' = 'date',`,
    `  'projection.month.format' = 'yyyy-MM',`,
    `  'projection.month.range' = ${sqlText(`${firstMonth},NOW`)},`,
    `  'projection.month.interval' = '1',`,
    `  'projection.month.interval.unit' = 'MONTHS',`,
    ...domainProjection,
    `  'storage.location.template' = ${sqlText(`${root}/month=\${month}/domain=\${domain}/`)}`,
    ');',
    '',
    ...VIEW_NOTE,
    countedView('CREATE OR REPLACE VIEW cdrs', 'cdrs_files'),
  ].join('\n');
}

function trinoDdl(o: LakeDdlOptions): string {
  const root = o.location.kind === 'local' ? cdrsUrl(o.location, 'file') : cdrsUrl(o.location, 's3');
  return [
    '-- Hive connector (catalog `hive`, schema `cdr`). Timestamps are UTC instants: set',
    '-- hive.parquet.time-zone=UTC in the catalog so they read as UTC, and hive.timestamp-precision=MICROSECONDS',
    '-- (then declare timestamp(6)) to keep microseconds.',
    'CREATE SCHEMA IF NOT EXISTS hive.cdr;',
    'CREATE TABLE IF NOT EXISTS hive.cdr.cdrs_files (',
    columnList('trino'),
    ',\n  month varchar,\n  domain varchar',
    ')',
    `WITH (external_location = ${sqlText(root)}, format = 'PARQUET', partitioned_by = ARRAY['month', 'domain']);`,
    "CALL hive.system.sync_partition_metadata('cdr', 'cdrs_files', 'ADD');",
    '',
    ...VIEW_NOTE,
    countedView('CREATE OR REPLACE VIEW hive.cdr.cdrs', 'hive.cdr.cdrs_files'),
  ]
    .join('\n')
    .replace(/\n,\n/, ',\n');
}

function sparkDdl(o: LakeDdlOptions): string {
  const root = cdrsUrl(o.location, 's3a');
  return [
    '-- Keep `month` a string (2026-10 would otherwise be inferred as a date).',
    'SET spark.sql.sources.partitionColumnTypeInference.enabled = false;',
    'CREATE OR REPLACE TEMPORARY VIEW cdrs_files',
    'USING parquet',
    `OPTIONS (path ${sqlText(`${root}/month=*/domain=*/*.parquet`)}, basePath ${sqlText(root)}, mergeSchema 'true');`,
    '',
    ...VIEW_NOTE,
    countedView('CREATE OR REPLACE TEMPORARY VIEW cdrs', 'cdrs_files'),
  ].join('\n');
}

function clickhouseDdl(o: LakeDdlOptions): string {
  const structure = lakeFileColumns()
    .map((c) => `${c.name} ${TYPES.clickhouse[c.type]}`)
    .join(', ');
  const source =
    o.location.kind === 's3'
      ? `s3(${sqlText(`${cdrsHttpUrl(o.location, o.endpoint, o.region)}/**/*.parquet`)}, 'Parquet', ${sqlText(structure)})`
      : `file(${sqlText(`${cdrsUrl(o.location, 's3')}/**/*.parquet`)}, 'Parquet', ${sqlText(structure)})`;
  return [
    '-- use_hive_partitioning adds `month` and `domain` from the path as virtual columns.',
    ...(o.location.kind === 'local' ? ["-- file() reads under the server's user_files_path: link or copy the lake there."] : []),
    ...(o.location.kind === 's3' ? ['-- Credentials: a named collection, or the access key and secret as extra arguments of s3().'] : []),
    'CREATE OR REPLACE VIEW cdrs_files AS',
    `SELECT ${[...lakeFileColumns().map((c) => c.name), 'month', 'domain'].join(', ')}`,
    `FROM ${source}`,
    'SETTINGS use_hive_partitioning = 1;',
    '',
    ...VIEW_NOTE,
    countedView('CREATE OR REPLACE VIEW cdrs', 'cdrs_files', 'in-lists'),
  ].join('\n');
}

/** The statements for one engine, ending with a newline. */
export function lakeDdl(options: LakeDdlOptions): string {
  if (options.endpoint) checkPrintable('endpoint', options.endpoint);
  const ddl = {
    duckdb: duckdbDdl,
    athena: athenaDdl,
    trino: trinoDdl,
    spark: sparkDdl,
    clickhouse: clickhouseDdl,
  }[options.engine](options);
  return `${ddl}\n`;
}
