/**
 * The lake's rows that count, as SQL any engine runs (DuckDB, Athena, Trino, Spark, ClickHouse):
 * the rule of lake/compacted-partition.ts over a relation holding every lake file with its hive
 * columns `month` and `domain` and the file column `domain_name`. Plain `substr`, `concat`, `max`
 * and `IN (subquery)`, no correlated subqueries, so every engine plans it as joins.
 */
import { COMPACTED_PREFIX } from './compacted-partition.ts';
import { DOMAIN_NAME_COLUMN } from './layout.ts';

const isCompacted = (domain: string) => `substr(${domain}, 1, ${COMPACTED_PREFIX.length}) = '${COMPACTED_PREFIX}'`;
const notCompacted = (domain: string) => `substr(${domain}, 1, ${COMPACTED_PREFIX.length}) <> '${COMPACTED_PREFIX}'`;
const fullDomain = `coalesce(${DOMAIN_NAME_COLUMN}, domain)`;

/**
 * True for a row of `relation` that counts: it is in a domain's own partition, or in the newest
 * compacted generation of its month and its domain has no partition of its own that month.
 * The relation is named twice; pass a name (a table, view or CTE), not a subquery.
 */
export function countedRowsCondition(relation: string): string {
  return [
    notCompacted('domain'),
    `   OR (concat(month, '/', domain) IN (SELECT concat(month, '/', max(domain)) FROM ${relation} WHERE ${isCompacted('domain')} GROUP BY month)`,
    `       AND concat(month, '/', ${DOMAIN_NAME_COLUMN}) NOT IN (SELECT DISTINCT concat(month, '/', ${fullDomain}) FROM ${relation} WHERE ${notCompacted('domain')}))`,
  ].join('\n');
}

/**
 * `SELECT <columns>, month, <full domain name> AS domain FROM <relation> WHERE <rows that count>`;
 * `columns` are the file columns to keep (without `domain`, `month` and `domain_name`).
 */
export function countedRowsSql(relation: string, columns: readonly string[]): string {
  return [
    `SELECT ${[...columns, 'month', `${fullDomain} AS domain`].join(', ')}`,
    `FROM ${relation}`,
    `WHERE ${countedRowsCondition(relation)}`,
  ].join('\n');
}
