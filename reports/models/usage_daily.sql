-- usage_daily: per domain and local calendar day.
SELECT
  domain,
  local_month,
  local_date,
  count(*) FILTER (WHERE billable) AS calls,
  count(*) FILTER (WHERE billable AND answered) AS answered,
  count(*) FILTER (WHERE billable AND NOT answered) AS missed,
  coalesce(sum(talk_s) FILTER (WHERE billable), 0) AS talk_s,
  sum(billable_s) AS billable_s,
  CAST(sum(charge) AS DECIMAL(18, 6)) AS charge
FROM rated_calls
GROUP BY domain, local_month, local_date
