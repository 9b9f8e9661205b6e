/**
 * The lake's rows that count, as SQL any engine runs (DuckDB, Athena, Trino, Spark, ClickHouse):
 * the rule of lake/compacted-partition.ts over a relation holding every lake file with its hive
 * columns `month` and `domain` and the file column `domain_name`.
 *
 * The rule is two anti-joins against small sets, so a scan pays a hash probe per row and nothing
 * else: the older compacted generations (none at rest), and the (month, domain) pairs that have
 * a partition of their own in a compacted month (none at rest, a few after late CDRs). A compacted
 * partition value is unique to its month (its hash covers the month), so generations are told
 * apart by value alone.
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
 * `f.*` or f's columns). A row counts when it is in a domain's own partition, or in the newest
 * compacted generation of its month and its domain has no partition of its own that month.
 */
export function countedRowsFrom(relation: string, opts: CountedRowsOptions = {}): string {
  const newest = `SELECT month AS newest_month, max(domain) AS newest_domain FROM ${relation} WHERE ${isCompacted('domain')} GROUP BY month`;
  const compactedMonths = `SELECT DISTINCT month FROM ${relation} WHERE ${isCompacted('domain')}`;
  if (opts.form === 'in-lists') {
    return [
      `FROM ${relation} f`,
      `WHERE ${notCompacted('f.domain')}`,
      `   OR (f.domain IN (SELECT newest_domain FROM (${newest}) n)`,
      `       AND concat(f.month, '/', f.${DOMAIN_NAME_COLUMN}) NOT IN (SELECT DISTINCT concat(o.month, '/', ${fullDomain('o')}) FROM ${relation} o WHERE ${notCompacted('o.domain')}))`,
    ].join('\n');
  }
  return [
    `FROM ${relation} f`,
    `LEFT JOIN (SELECT DISTINCT c.domain AS older_domain FROM ${relation} c JOIN (${newest}) n ON c.month = n.newest_month`,
    `           WHERE ${isCompacted('c.domain')} AND c.domain < n.newest_domain) older ON f.domain = older.older_domain`,
    `LEFT JOIN (SELECT DISTINCT o.month AS own_month, ${fullDomain('o')} AS own_domain FROM ${relation} o`,
    `           WHERE ${notCompacted('o.domain')} AND o.month IN (${compactedMonths})) own`,
    `       ON ${isCompacted('f.domain')} AND f.month = own.own_month AND f.${DOMAIN_NAME_COLUMN} = own.own_domain`,
    'WHERE older.older_domain IS NULL AND own.own_domain IS NULL',
  ].join('\n');
}

/**
 * `SELECT <columns>, month, <full domain name> AS domain <countedRowsFrom>`; `columns` are the
 * file columns to keep (without `domain`, `month` and `domain_name`).
 */
export function countedRowsSql(relation: string, columns: readonly string[], opts: CountedRowsOptions = {}): string {
  return [
    `SELECT ${[...columns.map((c) => `f.${c}`), 'f.month', `${fullDomain('f')} AS domain`].join(', ')}`,
    countedRowsFrom(relation, opts),
  ].join('\n');
}
