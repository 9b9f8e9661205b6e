-- usage_by_user: per domain, local month and the customer's own user on the call: the caller for
-- outbound and internal calls, the answering (or ringing) user for inbound calls. Each leg counts
-- for one user only, so the totals add up to usage_monthly.
SELECT
  domain,
  local_month,
  coalesce(nullif(CASE WHEN direction IN ('inbound', 'missed') THEN term_user ELSE orig_user END, ''), '(none)') AS "user",
  count(*) FILTER (WHERE billable) AS calls,
  count(*) FILTER (WHERE billable AND direction IN ('inbound', 'missed')) AS inbound_calls,
  count(*) FILTER (WHERE billable AND direction = 'outbound') AS outbound_calls,
  count(*) FILTER (WHERE billable AND direction = 'internal') AS internal_calls,
  count(*) FILTER (WHERE billable AND answered) AS answered,
  coalesce(sum(talk_s) FILTER (WHERE billable), 0) AS talk_s,
  sum(billable_s) AS billable_s,
  CAST(sum(charge) AS DECIMAL(18, 6)) AS charge
FROM rated_calls
GROUP BY ALL
