-- depends_on: rated_calls
-- incremental: domain_month
-- usage_daily: per domain and local calendar day.
SELECT
  domain,
  local_month,
  local_date,
  CAST(count(*) FILTER (WHERE billable) AS INTEGER) AS calls,
  CAST(count(*) FILTER (WHERE billable AND answered) AS INTEGER) AS answered,
  CAST(count(*) FILTER (WHERE billable AND NOT answered) AS INTEGER) AS missed,
  CAST(coalesce(sum(talk_s) FILTER (WHERE billable), 0) AS BIGINT) AS talk_s,
  CAST(sum(billable_s) AS BIGINT) AS billable_s,
  CAST(sum(charge) AS DECIMAL(18, 6)) AS charge
FROM rated_calls
GROUP BY domain, local_month, local_date
