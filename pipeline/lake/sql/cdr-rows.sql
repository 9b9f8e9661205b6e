-- The lake's row for each CDR in a set of spool files (lake/spool-format.ts: a fetched page's
-- records, each its exact JSON text as received, separated by RS; file name = fetch sequence
-- number): typed columns for analysts, the record as received in `raw`, and `fetch_seq`, the
-- spool file's number (filled in only when de-duplicating). Keeps rows whose start_time lies in
-- the range being written; the last placeholder adds the writer's id filter and/or a QUALIFY
-- clause keeping, for an id seen twice, the copy fetched last.
-- This is the general form, for every spelling the API uses (numbers as text, padded ids, zones
-- in brackets). Files whose records are all plain take cdr-rows-plain.sql: same rows, for less.
-- Placeholders (double braces) are filled in by lake-writer.ts; none may appear inside a comment.
SELECT
  cdr_id(r."id")                                       AS id,
  {{domain}}::VARCHAR                                  AS domain,
  cdr_ts(r."call-start-datetime")                      AS start_time,
  cdr_ts(r."call-answer-datetime")                     AS answer_time,
  cdr_ts(r."call-disconnect-datetime")                 AS end_time,
  cdr_int(r."call-total-duration-seconds")             AS duration_s,
  cdr_int(r."call-talking-duration-seconds")           AS talk_s,
  cdr_direction(r."call-direction")                    AS direction,
  cdr_text(r."call-orig-user")                         AS orig_user,
  cdr_text(r."call-term-user")                         AS term_user,
  coalesce(cdr_text(r."call-orig-caller-id"), cdr_text(r."call-orig-from-user"))    AS caller_number,
  coalesce(cdr_text(r."call-orig-to-user"), cdr_text(r."call-orig-request-user"))   AS dialed_number,
  raw                                                  AS raw,
  {{ingested_at}}::TIMESTAMPTZ                         AS ingested_at,
  -- extras a billing analyst wants typed
  cdr_text(r."reseller")                               AS reseller,
  cdr_text(r."call-orig-from-name")                    AS caller_name,
  cdr_text(r."call-orig-domain")                       AS orig_domain,
  cdr_text(r."call-orig-site")                         AS orig_site,
  cdr_text(r."call-orig-department")                   AS orig_department,
  cdr_text(r."call-term-domain")                       AS term_domain,
  cdr_text(r."call-term-site")                         AS term_site,
  cdr_text(r."call-term-department")                   AS term_department,
  cdr_text(r."call-term-caller-id")                    AS term_caller_id,
  cdr_text(r."call-account-code")                      AS account_code,
  cdr_text(r."call-disconnect-reason-text")            AS disconnect_reason,
  cdr_text(r."call-orig-call-id")                      AS orig_call_id,
  cdr_text(r."call-term-call-id")                      AS term_call_id,
  cdr_text(r."call-parent-call-id")                    AS parent_call_id,
  cdr_text(r."call-parent-cdr-id")                     AS parent_cdr_id,
  cdr_int(r."call-on-hold-duration-seconds")           AS hold_s,
  cdr_int(r."call-leg-ordinal-index")                  AS leg_index,
  cdr_int(r."call-direction")                          AS direction_code,
  cdr_ts(r."call-ringing-datetime")                    AS ringing_time,
  fetch_seq
FROM (
  SELECT
    json::JSON AS raw,
    -- unnest() is a barrier: without it DuckDB pushes the WHERE below this projection and
    -- substitutes from_json into it, parsing every record once more per filter term.
    unnest([from_json(json, '{
      "id":"VARCHAR","reseller":"VARCHAR",
      "call-start-datetime":"VARCHAR","call-answer-datetime":"VARCHAR","call-disconnect-datetime":"VARCHAR","call-ringing-datetime":"VARCHAR",
      "call-total-duration-seconds":"VARCHAR","call-talking-duration-seconds":"VARCHAR","call-on-hold-duration-seconds":"VARCHAR",
      "call-direction":"VARCHAR","call-orig-user":"VARCHAR","call-term-user":"VARCHAR",
      "call-orig-caller-id":"VARCHAR","call-orig-from-user":"VARCHAR","call-orig-to-user":"VARCHAR","call-orig-request-user":"VARCHAR",
      "call-orig-from-name":"VARCHAR","call-orig-domain":"VARCHAR","call-orig-site":"VARCHAR","call-orig-department":"VARCHAR",
      "call-term-domain":"VARCHAR","call-term-site":"VARCHAR","call-term-department":"VARCHAR","call-term-caller-id":"VARCHAR",
      "call-account-code":"VARCHAR","call-disconnect-reason-text":"VARCHAR",
      "call-orig-call-id":"VARCHAR","call-term-call-id":"VARCHAR","call-parent-call-id":"VARCHAR","call-parent-cdr-id":"VARCHAR",
      "call-leg-ordinal-index":"VARCHAR"
    }')]) AS r,
    {{fetch_seq}} AS fetch_seq
  -- Spool files hold records separated by RS (lake/spool-format.ts); the cast marks raw as JSON.
  FROM (SELECT unnest(string_split(content, chr(30))) AS json, filename FROM read_text({{files}}))
)
-- Filter and QUALIFY repeat the column expressions on purpose: on DuckDB 1.5 filtering the
-- derived columns from an outer query around a window function fails with an internal cast error.
WHERE cdr_id(r."id") IS NOT NULL
  AND cdr_ts(r."call-start-datetime") >= {{range_start}}::TIMESTAMPTZ
  AND cdr_ts(r."call-start-datetime") <  {{range_end}}::TIMESTAMPTZ
{{dedup}}
