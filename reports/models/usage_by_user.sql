-- depends_on: rated_calls
-- incremental: domain_month
-- usage_by_user: per domain, local month and the customer's own user on the call: the caller for
-- outbound and internal calls, the answering (or ringing) user for inbound calls. Each leg counts
-- for one user only, so the totals add up to usage_monthly.
SELECT
  domain,
  local_month,
  coalesce(nullif(CASE WHEN direction IN ('inbound', 'missed') THEN term_user ELSE orig_user END, ''), '(none)') AS "user",
  CAST(count(*) FILTER (WHERE billable) AS INTEGER) AS calls,
  CAST(count(*) FILTER (WHERE billable AND direction IN ('inbound', 'missed')) AS INTEGER) AS inbound_calls,
  CAST(count(*) FILTER (WHERE billable AND direction = 'outbound') AS INTEGER) AS outbound_calls,
  CAST(count(*) FILTER (WHERE billable AND direction = 'internal') AS INTEGER) AS internal_calls,
  CAST(count(*) FILTER (WHERE billable AND answered) AS INTEGER) AS answered,
  CAST(coalesce(sum(talk_s) FILTER (WHERE billable), 0) AS BIGINT) AS talk_s,
  CAST(sum(billable_s) AS BIGINT) AS billable_s,
  CAST(sum(charge) AS DECIMAL(18, 6)) AS charge
FROM rated_calls
GROUP BY ALL
