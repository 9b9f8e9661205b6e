-- depends_on: calls
-- incremental: domain_month
-- usage_hourly: per domain, local month and local hour of day (0-23), for busy-hour charts.
SELECT
  domain,
  local_month,
  local_hour,
  CAST(count(*) FILTER (WHERE billable) AS INTEGER) AS calls,
  CAST(count(*) FILTER (WHERE billable AND answered) AS INTEGER) AS answered,
  CAST(coalesce(sum(talk_s) FILTER (WHERE billable), 0) AS BIGINT) AS talk_s
FROM calls
GROUP BY domain, local_month, local_hour
