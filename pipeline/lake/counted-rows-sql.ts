/**
 * The lake's rows that count, as SQL any engine runs (DuckDB, Athena, Trino, Spark, ClickHouse):
 * the rule of lake/compacted-partition.ts over a relation holding every lake file with its hive
 * columns `month` and `domain` and the file column `domain_name`. Plain `substr`, `max`, `IN` and
 * `NOT EXISTS` subqueries, which every engine plans as joins.
 */
import { COMPACTED_PREFIX } from './compacted-partition.ts';
import { DOMAIN_NAME_COLUMN } from './layout.ts';

const isCompacted = (domain: string) => `substr(${domain}, 1, ${COMPACTED_PREFIX.length}) = '${COMPACTED_PREFIX}'`;
const notCompacted = (domain: string) => `substr(${domain}, 1, ${COMPACTED_PREFIX.length}) <> '${COMPACTED_PREFIX}'`;
const fullDomain = `coalesce(${DOMAIN_NAME_COLUMN}, domain)`;

/**
 * True for a row of `relation` that counts: it is in a domain's own partition, or in the newest
 * compacted generation of its month and its domain has no partition of its own that month.
 * The relation is named in the subqueries; pass a name (a table, view or CTE) that the outer query
 * reads without an alias. A compacted partition value is unique to its month (its hash covers the
 * month), so the newest generations are found by value alone. `correlated: false` writes the
 * domain test as a NOT IN over `month/domain` strings, for engines without correlated subqueries
 * (ClickHouse); the default anti-joins on the two columns, which is cheaper per row.
 */
export function countedRowsCondition(relation: string, opts: { correlated?: boolean } = {}): string {
  const ownPartition =
    opts.correlated === false
      ? `concat(month, '/', ${DOMAIN_NAME_COLUMN}) NOT IN (SELECT DISTINCT concat(month, '/', ${fullDomain}) FROM ${relation} WHERE ${notCompacted('domain')})`
      : `NOT EXISTS (SELECT 1 FROM ${relation} own WHERE ${notCompacted('own.domain')} AND own.month = ${relation}.month AND coalesce(own.${DOMAIN_NAME_COLUMN}, own.domain) = ${relation}.${DOMAIN_NAME_COLUMN})`;
  return [
    notCompacted('domain'),
    `   OR (domain IN (SELECT max(domain) FROM ${relation} WHERE ${isCompacted('domain')} GROUP BY month)`,
    `       AND ${ownPartition})`,
  ].join('\n');
}

/**
 * `SELECT <columns>, month, <full domain name> AS domain FROM <relation> WHERE <rows that count>`;
 * `columns` are the file columns to keep (without `domain`, `month` and `domain_name`).
 */
export function countedRowsSql(relation: string, columns: readonly string[], opts: { correlated?: boolean } = {}): string {
  return [
    `SELECT ${[...columns, 'month', `${fullDomain} AS domain`].join(', ')}`,
    `FROM ${relation}`,
    `WHERE ${countedRowsCondition(relation, opts)}`,
  ].join('\n');
}
