/**
 * Line numbers as the carrier's file has them. DuckDB numbers the records it keeps 1, 2, 3…; a
 * record's line in the file is that position plus the header, plus every line DuckDB did not
 * turn into a record before it (blank lines, lines it could not split), plus the extra physical
 * lines of earlier records with quoted line breaks. Both tables are small (one row per such line)
 * and ASOF joins apply them, so even a large irregular file costs one extra pass over its rows.
 */

/**
 * SQL creating `line_skips(v, i)`: the i-th skipped line (sorted) comes after v kept records; and
 * `line_extras(d, cum)`: records from line d on are `cum` physical lines further down.
 */
export function lineMapTablesSql(skippedLines: number[], multiLine: { line: number; extra: number }[]): string {
  const skips = [...new Set(skippedLines)].sort((a, b) => a - b);
  const skipRows = skips.map((s, k) => `(${s - 1 - (k + 1)}, ${k + 1})`);
  let cum = 0;
  const extraRows = [...multiLine]
    .sort((a, b) => a.line - b.line)
    .map((m) => {
      cum += m.extra;
      return `(${m.line}, ${cum})`;
    });
  return `
CREATE OR REPLACE TEMP TABLE line_skips (v BIGINT, i BIGINT);
${skipRows.length ? `INSERT INTO line_skips SELECT v, max(i) FROM (VALUES ${skipRows.join(', ')}) t(v, i) GROUP BY v;` : ''}
CREATE OR REPLACE TEMP TABLE line_extras (d BIGINT, cum BIGINT);
${extraRows.length ? `INSERT INTO line_extras VALUES ${extraRows.join(', ')};` : ''}`;
}

/**
 * Rows of `from` (a relation with `line_number` = position + 1) with their real line numbers.
 * The multi-line record itself starts where the extras of records before it put it.
 */
export function lineFixSql(from: string): string {
  return `
SELECT q.* EXCLUDE (_ld, _i) REPLACE (CAST(q._ld + coalesce(x.cum, 0) AS BIGINT) AS line_number)
FROM (
  SELECT r.*, r.line_number + coalesce(s.i, 0) AS _ld, s.i AS _i
  FROM ${from} r ASOF LEFT JOIN line_skips s ON r.line_number - 1 > s.v
) q ASOF LEFT JOIN line_extras x ON q._ld > x.d`;
}
