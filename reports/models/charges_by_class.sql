-- charges_by_class: billed totals per domain, local month and call class.
SELECT
  domain,
  local_month,
  call_class,
  count(*) FILTER (WHERE billable) AS calls,
  count(*) FILTER (WHERE billable AND answered) AS answered,
  coalesce(sum(talk_s) FILTER (WHERE billable), 0) AS talk_s,
  sum(billable_s) AS billable_s,
  sum(included_s) AS included_s,
  CAST(sum(charge) AS DECIMAL(18, 6)) AS charge,
  any_value(currency) AS currency
FROM rated_calls
GROUP BY domain, local_month, call_class
