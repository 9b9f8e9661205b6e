-- The lake's row for each CDR in spool files whose records are all plain (lake/plain-record.ts):
-- the same columns and rows as cdr-rows.sql gives for such records, for less. from_json casts
-- each field to its type itself (a count arrives as a JSON number, a datetime as ISO text), and
-- text needs only '' -> NULL, so the statement is a third of cdr-rows.sql to plan and cheaper
-- to run. A plain record's id is already in the lake's form (cdr_id gives it back unchanged),
-- so it is read as is here. call-direction goes through the same helpers as in cdr-rows.sql (its text decides
-- the name). Placeholders (double braces) are filled in by lake-writer.ts, as for cdr-rows.sql.
SELECT
  nullif(r."id", '')                                   AS id,
  {{domain}}::VARCHAR                                  AS domain,
  r."call-start-datetime"                              AS start_time,
  r."call-answer-datetime"                             AS answer_time,
  r."call-disconnect-datetime"                         AS end_time,
  r."call-total-duration-seconds"                      AS duration_s,
  r."call-talking-duration-seconds"                    AS talk_s,
  cdr_direction(r."call-direction")                    AS direction,
  nullif(r."call-orig-user", '')                       AS orig_user,
  nullif(r."call-term-user", '')                       AS term_user,
  coalesce(nullif(r."call-orig-caller-id", ''), nullif(r."call-orig-from-user", ''))    AS caller_number,
  coalesce(nullif(r."call-orig-to-user", ''), nullif(r."call-orig-request-user", ''))   AS dialed_number,
  raw                                                  AS raw,
  {{ingested_at}}::TIMESTAMPTZ                         AS ingested_at,
  -- extras a billing analyst wants typed
  nullif(r."reseller", '')                             AS reseller,
  nullif(r."call-orig-from-name", '')                  AS caller_name,
  nullif(r."call-orig-domain", '')                     AS orig_domain,
  nullif(r."call-orig-site", '')                       AS orig_site,
  nullif(r."call-orig-department", '')                 AS orig_department,
  nullif(r."call-term-domain", '')                     AS term_domain,
  nullif(r."call-term-site", '')                       AS term_site,
  nullif(r."call-term-department", '')                 AS term_department,
  nullif(r."call-term-caller-id", '')                  AS term_caller_id,
  nullif(r."call-account-code", '')                    AS account_code,
  nullif(r."call-disconnect-reason-text", '')          AS disconnect_reason,
  nullif(r."call-orig-call-id", '')                    AS orig_call_id,
  nullif(r."call-term-call-id", '')                    AS term_call_id,
  nullif(r."call-parent-call-id", '')                  AS parent_call_id,
  nullif(r."call-parent-cdr-id", '')                   AS parent_cdr_id,
  r."call-on-hold-duration-seconds"                    AS hold_s,
  r."call-leg-ordinal-index"                           AS leg_index,
  cdr_int(r."call-direction")                          AS direction_code,
  r."call-ringing-datetime"                            AS ringing_time,
  fetch_seq
FROM (
  SELECT
    json::JSON AS raw,
    -- unnest() is a barrier: without it DuckDB pushes the WHERE below this projection and
    -- substitutes from_json into it, parsing every record once more per filter term.
    unnest([from_json(json, '{
      "id":"VARCHAR","reseller":"VARCHAR",
      "call-start-datetime":"TIMESTAMPTZ","call-answer-datetime":"TIMESTAMPTZ","call-disconnect-datetime":"TIMESTAMPTZ","call-ringing-datetime":"TIMESTAMPTZ",
      "call-total-duration-seconds":"INTEGER","call-talking-duration-seconds":"INTEGER","call-on-hold-duration-seconds":"INTEGER",
      "call-direction":"VARCHAR","call-orig-user":"VARCHAR","call-term-user":"VARCHAR",
      "call-orig-caller-id":"VARCHAR","call-orig-from-user":"VARCHAR","call-orig-to-user":"VARCHAR","call-orig-request-user":"VARCHAR",
      "call-orig-from-name":"VARCHAR","call-orig-domain":"VARCHAR","call-orig-site":"VARCHAR","call-orig-department":"VARCHAR",
      "call-term-domain":"VARCHAR","call-term-site":"VARCHAR","call-term-department":"VARCHAR","call-term-caller-id":"VARCHAR",
      "call-account-code":"VARCHAR","call-disconnect-reason-text":"VARCHAR",
      "call-orig-call-id":"VARCHAR","call-term-call-id":"VARCHAR","call-parent-call-id":"VARCHAR","call-parent-cdr-id":"VARCHAR",
      "call-leg-ordinal-index":"INTEGER"
    }')]) AS r,
    {{fetch_seq}} AS fetch_seq
  -- Spool files hold records separated by RS (lake/spool-format.ts); the cast marks raw as JSON.
  FROM (SELECT unnest(string_split(content, chr(30))) AS json, filename FROM read_text({{files}}))
)
WHERE r."id" <> ''
  AND r."call-start-datetime" >= {{range_start}}::TIMESTAMPTZ
  AND r."call-start-datetime" <  {{range_end}}::TIMESTAMPTZ
{{dedup}}
