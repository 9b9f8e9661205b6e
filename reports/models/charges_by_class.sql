-- depends_on: rated_calls
-- incremental: domain_month
-- charges_by_class: billed totals per domain, local month and call class.
SELECT
  domain,
  local_month,
  call_class,
  CAST(count(*) FILTER (WHERE billable) AS INTEGER) AS calls,
  CAST(count(*) FILTER (WHERE billable AND answered) AS INTEGER) AS answered,
  CAST(coalesce(sum(talk_s) FILTER (WHERE billable), 0) AS BIGINT) AS talk_s,
  CAST(sum(billable_s) AS BIGINT) AS billable_s,
  CAST(sum(included_s) AS BIGINT) AS included_s,
  CAST(sum(charge) AS DECIMAL(18, 6)) AS charge,
  any_value(currency) AS currency
FROM rated_calls
GROUP BY domain, local_month, call_class
