-- Destinations that cost more than they earned in the local month $month, worst first (billing team's report).
SELECT
  destination_prefix,
  coalesce(any_value(destination), '') AS destination,
  call_class,
  carrier,
  any_value(currency) AS currency,
  CAST(sum(calls) AS BIGINT) AS calls,
  CAST(sum(revenue) AS DECIMAL(18, 6)) AS revenue,
  CAST(sum(cost) AS DECIMAL(18, 6)) AS cost,
  CAST(sum(margin) AS DECIMAL(18, 6)) AS margin
FROM margin_monthly
WHERE month = $month
GROUP BY destination_prefix, call_class, carrier
HAVING sum(margin) < 0
ORDER BY sum(margin), destination_prefix, carrier
LIMIT 50;
