-- depends_on:
-- incremental: domain_month
-- calls: one row per call leg (the latest version of each (domain, id) in the lake), in the
-- customer's local time, with E.164 numbers and a call class. Registration noise and self-calls
-- are flagged (is_reg_noise, is_self_call) and kept; `billable` is false for them.
WITH lake_rows AS (
  -- Only the columns used below, so a month of a large reseller stays within the memory budget.
  SELECT
    domain, id, ingested_at, start_time, answer_time, end_time, direction, orig_user, term_user,
    raw ->> 'call-orig-from-name' AS caller_name,
    caller_number, dialed_number,
    raw ->> 'call-disconnect-reason-text' AS disconnect_reason,
    duration_s, talk_s
  FROM cdrs
),
repeated AS (
  -- A CDR re-read after it changed may exist twice if a lake merge ever failed; bill it once,
  -- in its latest version. The data test cdrs_unique_domain_id still reports the duplicate.
  -- Only the repeated keys are numbered: a window over every row must hold every row at once.
  SELECT domain, id FROM cdrs GROUP BY domain, id HAVING count(*) > 1
),
latest AS (
  SELECT * EXCLUDE (ingested_at) FROM lake_rows
  WHERE NOT EXISTS (SELECT 1 FROM repeated AS r WHERE r.domain = lake_rows.domain AND r.id = lake_rows.id)
  UNION ALL
  SELECT * EXCLUDE (ingested_at) FROM lake_rows
  WHERE EXISTS (SELECT 1 FROM repeated AS r WHERE r.domain = lake_rows.domain AND r.id = lake_rows.id)
  QUALIFY row_number() OVER (PARTITION BY domain, id ORDER BY ingested_at DESC NULLS LAST) = 1
),
legs AS (
  SELECT
    l.domain,
    l.id,
    l.start_time,
    l.answer_time,
    l.end_time,
    d.time_zone,
    l.start_time AT TIME ZONE d.time_zone AS start_local,
    l.direction,
    l.orig_user,
    l.term_user,
    l.caller_name,
    l.caller_number,
    l.dialed_number,
    l.disconnect_reason,
    dial_digits(l.caller_number) AS caller_digits,
    dial_digits(l.dialed_number) AS dialed_digits,
    coalesce(l.duration_s, 0) AS duration_s,
    coalesce(l.talk_s, 0) AS talk_s
  FROM latest AS l
  JOIN domains AS d ON d.domain = l.domain
),
numbers AS (
  -- Digits are cleaned once per leg; E.164 and the checks below work on the clean digits.
  SELECT
    *,
    e164_from_digits(caller_digits) AS caller_e164,
    e164_from_digits(dialed_digits) AS dialed_e164,
    dialed_digits IN ('911', '933', '9911') AS dialed_emergency,
    is_reg_noise_reason(disconnect_reason) AS is_reg_noise
  FROM legs
),
classified AS (
  SELECT
    *,
    CASE
      WHEN direction = 'internal' THEN 'internal'
      WHEN direction = 'outbound' AND dialed_emergency THEN 'emergency'
      WHEN direction = 'outbound' THEN number_class(dialed_e164)
      -- Inbound: toll-free follows the DID called (the customer's own toll-free number), never
      -- the caller's number: a call from an 8xx caller id to an ordinary DID is a domestic call.
      -- Otherwise the class of the caller's number (unknown when anonymous).
      WHEN direction IN ('inbound', 'missed') AND number_class(dialed_e164) = 'toll-free' THEN 'toll-free'
      WHEN direction IN ('inbound', 'missed') AND number_class(caller_e164) = 'toll-free' THEN 'domestic'
      WHEN direction IN ('inbound', 'missed') THEN number_class(caller_e164)
      ELSE 'unknown'
    END AS call_class,
    coalesce(
      (orig_user IS NOT NULL AND orig_user <> '' AND orig_user = term_user)
      OR (caller_e164 IS NOT NULL AND caller_e164 = dialed_e164),
      false) AS is_self_call
  FROM numbers
)
SELECT
  domain,
  id,
  start_time,
  answer_time,
  end_time,
  time_zone,
  start_local,
  strftime(start_local, '%Y-%m') AS local_month,
  CAST(start_local AS DATE) AS local_date,
  CAST(hour(start_local) AS INTEGER) AS local_hour,
  direction,
  orig_user,
  term_user,
  caller_name,
  caller_number,
  dialed_number,
  caller_e164,
  dialed_e164,
  CASE
    WHEN direction = 'outbound' THEN caller_e164
    WHEN direction IN ('inbound', 'missed') THEN dialed_e164
  END AS did,
  CASE
    WHEN direction = 'outbound' THEN coalesce(dialed_e164, nullif(dialed_digits, ''))
    WHEN direction IN ('inbound', 'missed') THEN coalesce(caller_e164, caller_number)
    ELSE coalesce(term_user, nullif(dialed_digits, ''))
  END AS remote_number,
  call_class,
  -- What the rate deck is searched with: the E.164 number, or the emergency code as dialled.
  CASE
    WHEN call_class = 'emergency' THEN CASE WHEN dialed_digits = '9911' THEN '911' ELSE dialed_digits END
    ELSE dialed_e164
  END AS rating_key,
  disconnect_reason,
  is_reg_noise,
  is_self_call,
  NOT is_reg_noise AND NOT is_self_call AS billable,
  (direction <> 'missed' AND (talk_s > 0 OR answer_time IS NOT NULL)) AS answered,
  duration_s,
  talk_s
FROM classified
