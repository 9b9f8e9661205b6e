/**
 * The lake's columns (lake/cdrs), in the order they are written: the one table the row SQL
 * (lake/row-sql.ts), the empty `cdrs` view (transform/lake-views.ts), the plain-record field lists
 * (lake/plain-record.ts) and the warehouse manual (docs/warehouse.md) are generated from.
 * `month` and the hive `domain` live in the partition path, not in the files.
 */

/** How a column is read from the API record; decides the expression in each row SQL form. */
export type LakeColumnParse =
  /** The record's id as the lake stores it (cdr_id: surrounding white space removed, '' -> NULL). */
  | 'id'
  /** Text, '' -> NULL, surrounding spaces trimmed; several source fields: the first non-empty. */
  | 'text'
  /** Any datetime spelling the API uses -> TIMESTAMPTZ (cdr_ts). */
  | 'datetime'
  /** A count as a number or numeric text -> INTEGER (cdr_int). */
  | 'integer'
  /** call-direction code -> outbound, inbound, missed, internal (cdr_direction). */
  | 'direction'
  /** Filled in by the writer, not read from a field: the SQL is given as is. */
  | 'writer';

export interface LakeColumn {
  name: string;
  /** DuckDB type as the Parquet file holds it. */
  type: 'VARCHAR' | 'INTEGER' | 'TIMESTAMPTZ' | 'JSON';
  /** API fields read, first non-empty wins; empty for columns the writer fills in. */
  source: readonly string[];
  parse: LakeColumnParse;
  /** The SQL of a `writer` column (placeholders in double braces are filled in by lake-writer.ts). */
  sql?: string;
  /** One of the columns the contract guarantees (the others are typed extras). */
  guaranteed: boolean;
  description: string;
}

const col = (
  name: string,
  type: LakeColumn['type'],
  parse: LakeColumnParse,
  source: readonly string[],
  description: string,
  guaranteed = false,
): LakeColumn => ({
  name,
  type,
  parse,
  source,
  guaranteed,
  description,
});

/** Every column of a lake file, in file order. */
export const LAKE_COLUMNS: readonly LakeColumn[] = [
  col('id', 'VARCHAR', 'id', ['id'], 'The CDR id; unique per domain across the whole lake', true),
  {
    ...col(
      'domain',
      'VARCHAR',
      'writer',
      [],
      'The domain (hive partition value; the full name in `domain_name` where the path holds a short one)',
      true,
    ),
    sql: '{{domain}}::VARCHAR',
  },
  col('start_time', 'TIMESTAMPTZ', 'datetime', ['call-start-datetime'], 'When the call started; decides the month partition (UTC)', true),
  col('answer_time', 'TIMESTAMPTZ', 'datetime', ['call-answer-datetime'], 'When the call was answered (NULL when it was not)', true),
  col('end_time', 'TIMESTAMPTZ', 'datetime', ['call-disconnect-datetime'], 'When the call ended', true),
  col('duration_s', 'INTEGER', 'integer', ['call-total-duration-seconds'], 'Total seconds, ringing included', true),
  col('talk_s', 'INTEGER', 'integer', ['call-talking-duration-seconds'], 'Seconds talked', true),
  col(
    'direction',
    'VARCHAR',
    'direction',
    ['call-direction'],
    '`outbound`, `inbound`, `missed` or `internal` (from call-direction 0/1/2/3)',
    true,
  ),
  col('orig_user', 'VARCHAR', 'text', ['call-orig-user'], 'The calling user', true),
  col('term_user', 'VARCHAR', 'text', ['call-term-user'], 'The called user', true),
  col('caller_number', 'VARCHAR', 'text', ['call-orig-caller-id', 'call-orig-from-user'], 'Caller id as received', true),
  col('dialed_number', 'VARCHAR', 'text', ['call-orig-to-user', 'call-orig-request-user'], 'Dialled digits as received', true),
  { ...col('raw', 'JSON', 'writer', [], 'The whole API record exactly as received: nothing is lost', true), sql: 'raw' },
  { ...col('ingested_at', 'TIMESTAMPTZ', 'writer', [], 'When this row was written', true), sql: '{{ingested_at}}::TIMESTAMPTZ' },
  col('reseller', 'VARCHAR', 'text', ['reseller'], 'The reseller of the domain'),
  col('caller_name', 'VARCHAR', 'text', ['call-orig-from-name'], 'Caller name as received'),
  col('orig_domain', 'VARCHAR', 'text', ['call-orig-domain'], 'Domain of the calling side'),
  col('orig_site', 'VARCHAR', 'text', ['call-orig-site'], 'Site of the calling side'),
  col('orig_department', 'VARCHAR', 'text', ['call-orig-department'], 'Department of the calling side'),
  col('term_domain', 'VARCHAR', 'text', ['call-term-domain'], 'Domain of the called side'),
  col('term_site', 'VARCHAR', 'text', ['call-term-site'], 'Site of the called side'),
  col('term_department', 'VARCHAR', 'text', ['call-term-department'], 'Department of the called side'),
  col('term_caller_id', 'VARCHAR', 'text', ['call-term-caller-id'], 'Caller id presented to the called side'),
  col('account_code', 'VARCHAR', 'text', ['call-account-code'], 'Account code entered for the call'),
  col('disconnect_reason', 'VARCHAR', 'text', ['call-disconnect-reason-text'], 'Why the call ended, as the PBX words it'),
  col('orig_call_id', 'VARCHAR', 'text', ['call-orig-call-id'], 'SIP call id of the calling side'),
  col('term_call_id', 'VARCHAR', 'text', ['call-term-call-id'], 'SIP call id of the called side'),
  col('parent_call_id', 'VARCHAR', 'text', ['call-parent-call-id'], 'Call id of the parent call (transfers, forwards)'),
  col('parent_cdr_id', 'VARCHAR', 'text', ['call-parent-cdr-id'], 'CDR id of the parent call'),
  col('hold_s', 'INTEGER', 'integer', ['call-on-hold-duration-seconds'], 'Seconds on hold'),
  col('leg_index', 'INTEGER', 'integer', ['call-leg-ordinal-index'], 'Ordinal of this leg within its call'),
  col(
    'direction_code',
    'INTEGER',
    'integer',
    ['call-direction'],
    'call-direction as the API sends it (0 outbound, 1 inbound, 2 missed, 3 internal)',
  ),
  col('ringing_time', 'TIMESTAMPTZ', 'datetime', ['call-ringing-datetime'], 'When the called side started ringing'),
];

/** The API fields a parse reads, each once, in column order (call-direction is text to both of its columns). */
function fieldsParsedAs(parse: LakeColumnParse): string[] {
  const fields = new Set<string>();
  for (const c of LAKE_COLUMNS) if (c.parse === parse) for (const f of c.source) fields.add(f);
  return [...fields];
}

/** Fields the lake types as text: `''` becomes NULL; surrounding spaces are trimmed. */
export const LAKE_TEXT_FIELDS: readonly string[] = [...fieldsParsedAs('id'), ...fieldsParsedAs('text')];
/** Fields the lake types as INTEGER (call-direction, typed from its text by cdr_direction, is not one). */
export const LAKE_INTEGER_FIELDS: readonly string[] = fieldsParsedAs('integer').filter((f) => !fieldsParsedAs('direction').includes(f));
/** Fields the lake types as TIMESTAMPTZ. */
export const LAKE_DATETIME_FIELDS: readonly string[] = fieldsParsedAs('datetime');
/** Fields read as text whose text decides their value (call-direction). */
export const LAKE_CODE_FIELDS: readonly string[] = fieldsParsedAs('direction');
