/**
 * The lake's row SQL, generated from the column table (lake/lake-columns.ts). Two forms give the
 * same columns:
 * - `general`, for every spelling the API uses (numbers as text, padded ids, zones in brackets):
 *   from_json reads every field as text and the helper macros of lake/sql/cdr-macros.sql type it;
 * - `plain`, for spool files whose records are all plain (lake/plain-record.ts): from_json casts
 *   each field to its type itself and text needs only '' -> NULL, so the statement is a third of
 *   the general one to plan and cheaper to run. test/lake/row-sql.test.ts holds the two to the
 *   same rows on plain records.
 */
import { LAKE_COLUMNS, LAKE_DATETIME_FIELDS, LAKE_INTEGER_FIELDS, type LakeColumn } from './lake-columns.ts';

export type RowSqlForm = 'general' | 'plain';

const field = (f: string) => `r.${JSON.stringify(f)}`;

/** The JSON type from_json reads a field as, in a form. */
function jsonType(f: string, form: RowSqlForm): string {
  if (form === 'general') return 'VARCHAR';
  if (LAKE_DATETIME_FIELDS.includes(f)) return 'TIMESTAMPTZ';
  if (LAKE_INTEGER_FIELDS.includes(f)) return 'INTEGER';
  return 'VARCHAR';
}

/** The SQL expression for one column, in a form (reads the parsed record `r`). */
export function lakeColumnSql(c: LakeColumn, form: RowSqlForm): string {
  const one = (f: string): string => {
    switch (c.parse) {
      case 'id':
        return form === 'general' ? `cdr_id(${field(f)})` : `nullif(${field(f)}, '')`;
      case 'text':
        return form === 'general' ? `cdr_text(${field(f)})` : `nullif(${field(f)}, '')`;
      case 'datetime':
        return form === 'general' ? `cdr_ts(${field(f)})` : field(f);
      case 'integer':
        // call-direction stays text in both forms (its text decides direction): cast it here.
        return jsonType(f, form) === 'INTEGER' ? field(f) : `cdr_int(${field(f)})`;
      case 'direction':
        return `cdr_direction(${field(f)})`;
      case 'writer':
        throw new Error(`lake column ${c.name}: a writer column has no source field`);
    }
  };
  if (c.parse === 'writer') {
    if (c.sql === undefined) throw new Error(`lake column ${c.name}: a writer column needs its sql`);
    return c.sql;
  }
  if (c.source.length === 0) throw new Error(`lake column ${c.name}: no source field`);
  return c.source.length === 1 ? one(c.source[0]!) : `coalesce(${c.source.map(one).join(', ')})`;
}

/** The lake column by name (a programming error when absent). */
export function lakeColumn(name: string): LakeColumn {
  const c = LAKE_COLUMNS.find((x) => x.name === name);
  if (!c) throw new Error(`no lake column ${name}`);
  return c;
}

/** Every API field the columns read, once each, with its JSON type in a form: the from_json schema. */
function fromJsonSchema(form: RowSqlForm): string {
  const fields = [...new Set(LAKE_COLUMNS.flatMap((c) => c.source))];
  const parts = fields.map((f) => `${JSON.stringify(f)}:${JSON.stringify(jsonType(f, form))}`);
  const lines: string[] = [];
  for (let i = 0; i < parts.length; i += 4) lines.push(`      ${parts.slice(i, i + 4).join(',')}`);
  return `{\n${lines.join(',\n')}\n    }`;
}

const HEADER: Record<RowSqlForm, string> = {
  general: `-- The lake's row for each CDR in a set of spool files (lake/spool-format.ts: a fetched page's
-- records, each its exact JSON text as received, separated by RS; file name = fetch sequence
-- number): typed columns for analysts, the record as received in \`raw\`, and \`fetch_seq\`, the
-- spool file's number (filled in only when de-duplicating). Keeps rows whose start_time lies in
-- the range being written; the last placeholder adds the writer's id filter and/or a QUALIFY
-- clause keeping, for an id seen twice, the copy fetched last.
-- This is the general form, for every spelling the API uses. Generated from lake/lake-columns.ts.
`,
  plain: `-- The lake's row for each CDR in spool files whose records are all plain (lake/plain-record.ts):
-- the same columns and rows as the general form gives for such records, for less. from_json casts
-- each field to its type itself, and text needs only '' -> NULL. Generated from lake/lake-columns.ts.
`,
};

/**
 * The row SQL of a form. Placeholders in double braces (files, domain, ingested_at, range_start,
 * range_end, fetch_seq, dedup) are filled in by lake-writer.ts; `join` and `part` stay empty for
 * one partition, and a batch of partitions (lake/batch-write.ts) joins each spool file to its
 * partition there and takes domain, range and ingested_at from that row.
 */
export function cdrRowsSql(form: RowSqlForm): string {
  const lines: string[] = [];
  let extras = false;
  for (const c of LAKE_COLUMNS) {
    if (!c.guaranteed && !extras) {
      lines.push('  -- extras a billing analyst wants typed');
      extras = true;
    }
    lines.push(`  ${lakeColumnSql(c, form).padEnd(52)} AS ${c.name},`);
  }
  // {{part}}: a batch write's partition number (lake/batch-write.ts), empty for one partition.
  lines.push('  {{part}}fetch_seq');
  const id = lakeColumnSql(lakeColumn('id'), form);
  const start = lakeColumnSql(lakeColumn('start_time'), form);
  return `${HEADER[form]}SELECT
${lines.join('\n')}
FROM (
  SELECT
    json::JSON AS raw,
    -- unnest() is a barrier: without it DuckDB pushes the WHERE below this projection and
    -- substitutes from_json into it, parsing every record once more per filter term.
    unnest([from_json(json, '${fromJsonSchema(form)}')]) AS r,
    {{fetch_seq}} AS fetch_seq,
    filename
  -- Spool files hold records separated by RS (lake/spool-format.ts); the cast marks raw as JSON.
  FROM (SELECT unnest(string_split(content, chr(30))) AS json, filename FROM read_text({{files}}))
){{join}}
-- Filter and QUALIFY repeat the column expressions on purpose: on DuckDB 1.5 filtering the
-- derived columns from an outer query around a window function fails with an internal cast error.
WHERE ${id} IS NOT NULL
  AND ${start} >= {{range_start}}::TIMESTAMPTZ
  AND ${start} <  {{range_end}}::TIMESTAMPTZ
{{dedup}}`;
}
