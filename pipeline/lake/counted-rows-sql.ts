/**
 * The lake's rows that count, as SQL any engine runs (DuckDB, Athena, Trino, Spark, ClickHouse):
 * the rule of lake/compacted-partition.ts over a relation holding every lake file with its hive
 * columns `month` and `domain` and the file column `domain_name`.
 *
 * The rows are a UNION ALL of two sides, told apart by the hive value alone (so an engine prunes
 * files by path for each side):
 * - the per-domain partitions, every row, `domain` the full name (`domain_name` where the path
 *   holds a short name);
 * - the compacted partitions, `domain` straight from `domain_name` (every compacted row stores it),
 *   less two small sets: the older compacted generations of a month (none at rest), and the
 *   (month, domain) pairs that have a partition of their own in a compacted month (none at rest,
 *   a few after late CDRs). A compacted partition value is unique to its month (its hash covers
 *   the month), so generations are told apart by value alone.
 * DuckDB gets a form whose two sets come from the file listing (partition values, no row read):
 * {@link countedRowsDuckdbSql}.
 */
import { COMPACTED_PREFIX } from './compacted-partition.ts';
import { DOMAIN_NAME_COLUMN } from './layout.ts';

const isCompacted = (domain: string) => `substr(${domain}, 1, ${COMPACTED_PREFIX.length}) = '${COMPACTED_PREFIX}'`;
const notCompacted = (domain: string) => `substr(${domain}, 1, ${COMPACTED_PREFIX.length}) <> '${COMPACTED_PREFIX}'`;
const fullDomain = (alias: string) => `coalesce(${alias}.${DOMAIN_NAME_COLUMN}, ${alias}.domain)`;

/** How the rule is written: anti-joins (default), or NOT IN lists for engines whose unmatched outer-join columns are not NULL (ClickHouse). */
export interface CountedRowsOptions {
  form?: 'joins' | 'in-lists';
}

/**
 * `FROM <relation> f … WHERE …`: the rows of `relation` that count, under the alias `f` (select
 * `f.*` or f's columns), in one scan: a row counts when it is in a domain's own partition, or in
 * the newest compacted generation of its month and its domain has no partition of its own that
 * month. For the writer's own reads (compaction, the transform); views use {@link countedRowsSql}.
 */
export function countedRowsFrom(relation: string): string {
  return [
    `FROM ${relation} f`,
    `LEFT JOIN (${olderGenerations(relation)}) older ON f.month = older.older_month AND f.domain = older.older_domain`,
    `LEFT JOIN (${ownPartitions(relation)}) own`,
    `       ON ${isCompacted('f.domain')} AND f.month = own.own_month AND f.${DOMAIN_NAME_COLUMN} = own.own_domain`,
    'WHERE older.older_domain IS NULL AND own.own_domain IS NULL',
  ].join('\n');
}

/** (older_month, older_domain): the compacted partitions that are not their month's newest generation. */
function olderGenerations(relation: string): string {
  const newest = `SELECT month AS newest_month, max(domain) AS newest_domain FROM ${relation} WHERE ${isCompacted('domain')} GROUP BY month`;
  return [
    `SELECT DISTINCT g.month AS older_month, g.domain AS older_domain FROM ${relation} g JOIN (${newest}) n`,
    `           ON g.month = n.newest_month AND g.domain < n.newest_domain WHERE ${isCompacted('g.domain')}`,
  ].join('\n');
}

/** (own_month, own_domain): the domains with a partition of their own in a compacted month. */
function ownPartitions(relation: string): string {
  const compactedMonths = `SELECT DISTINCT month FROM ${relation} WHERE ${isCompacted('domain')}`;
  return [
    `SELECT DISTINCT o.month AS own_month, ${fullDomain('o')} AS own_domain FROM ${relation} o`,
    `           WHERE ${notCompacted('o.domain')} AND o.month IN (${compactedMonths})`,
  ].join('\n');
}

/**
 * `SELECT <columns>, month, domain … UNION ALL SELECT …`: the rows that count, `domain` the full
 * name; `columns` are the file columns to keep (without `domain`, `month` and `domain_name`).
 */
export function countedRowsSql(relation: string, columns: readonly string[], opts: CountedRowsOptions = {}): string {
  const cols = (alias: string) => columns.map((c) => `${alias}.${c}`).join(', ');
  const perDomain = [
    `SELECT ${cols('f')}, f.month, ${fullDomain('f')} AS domain`,
    `FROM ${relation} f`,
    `WHERE ${notCompacted('f.domain')}`,
  ];
  const compacted =
    opts.form === 'in-lists'
      ? [
          `SELECT ${cols('c')}, c.month, c.${DOMAIN_NAME_COLUMN} AS domain`,
          `FROM ${relation} c`,
          `WHERE c.domain IN (SELECT max(domain) FROM ${relation} WHERE ${isCompacted('domain')} GROUP BY month)`,
          `  AND concat(c.month, '/', c.${DOMAIN_NAME_COLUMN}) NOT IN (SELECT DISTINCT concat(o.month, '/', ${fullDomain('o')}) FROM ${relation} o WHERE ${notCompacted('o.domain')})`,
        ]
      : [
          `SELECT ${cols('c')}, c.month, c.${DOMAIN_NAME_COLUMN} AS domain`,
          `FROM ${relation} c`,
          `LEFT JOIN (${olderGenerations(relation)}) older ON c.month = older.older_month AND c.domain = older.older_domain`,
          `LEFT JOIN (${ownPartitions(relation)}) own ON c.month = own.own_month AND c.${DOMAIN_NAME_COLUMN} = own.own_domain`,
          `WHERE ${isCompacted('c.domain')} AND older.older_domain IS NULL AND own.own_domain IS NULL`,
        ];
  return [...perDomain, 'UNION ALL', ...compacted].join('\n');
}

/**
 * The same rows as {@link countedRowsSql}, for DuckDB: the two sets come from `glob()` over the
 * partition directories (partition values, no file opened) rather than from a scan of the rows,
 * so at rest (no older generation, no late partition) each side is one scan with files pruned by
 * hive value and an anti-join against an empty set. Only a partition under a short name (a long
 * domain name, lake/partition-path.ts) is read, for its `domain_name`.
 * `files` is a relation over every lake file (hive columns and `domain_name`); `cdrsRoot` is the
 * directory or URL that holds the `month=` directories.
 *
 * No CTE and no helper view: a CTE here stops DuckDB from pruning the columns a query does not
 * read (every column of the compacted files was read), and each view costs a bind when created.
 */
export function countedRowsDuckdbSql(files: string, cdrsRoot: string): string {
  const compacted = (v: string) => `starts_with(${v}, '${COMPACTED_PREFIX}')`;
  const listing = `glob('${cdrsRoot.replaceAll("'", "''")}/*/*/*.parquet')`;
  // month and the raw (still percent-encoded) partition value of every directory holding a file.
  const partitions = [
    `(SELECT DISTINCT p.month, p.value FROM (SELECT regexp_extract(file, '[\\\\/]month=([^\\\\/]*)[\\\\/]domain=([^\\\\/]*)[\\\\/][^\\\\/]*$', ['month', 'value']) AS p`,
    `        FROM ${listing}))`,
  ].join('\n');
  return [
    `SELECT f.* EXCLUDE (${DOMAIN_NAME_COLUMN}) REPLACE (${fullDomain('f')} AS domain)`,
    `FROM ${files} f WHERE NOT ${compacted('f.domain')}`,
    'UNION ALL',
    `SELECT c.* EXCLUDE (${DOMAIN_NAME_COLUMN}) REPLACE (c.${DOMAIN_NAME_COLUMN} AS domain)`,
    `FROM ${files} c`,
    // Older generations: a compacted value below its month's newest.
    'ANTI JOIN (SELECT month, value FROM (',
    `    SELECT month, value, max(value) FILTER (WHERE ${compacted('value')}) OVER (PARTITION BY month) AS newest`,
    `    FROM ${partitions})`,
    `  WHERE ${compacted('value')} AND value < newest) older ON older.month = c.month AND older.value = c.domain`,
    // Domains with a partition of their own; a short name (`~`) cannot be decoded, its files hold the full name.
    'ANTI JOIN (SELECT month, url_decode(value) AS domain',
    `    FROM ${partitions}`,
    `    WHERE NOT ${compacted('value')} AND NOT contains(value, '~')`,
    `  UNION ALL SELECT month, ${DOMAIN_NAME_COLUMN} FROM ${files} WHERE NOT ${compacted('domain')} AND contains(domain, '~')) own`,
    `  ON own.month = c.month AND own.domain = c.${DOMAIN_NAME_COLUMN}`,
    `WHERE ${compacted('c.domain')}`,
  ].join('\n');
}
