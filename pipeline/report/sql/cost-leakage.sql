-- Calls a carrier charged for that no customer was billed for, in the local month $month, per domain and reason (billing team's report).
SELECT
  domain,
  reason,
  carrier,
  coalesce(any_value(currency), 'USD') AS currency,
  CAST(count(*) AS BIGINT) AS calls,
  CAST(sum(carrier_cost) AS DECIMAL(18, 6)) AS carrier_cost
FROM unbilled_carrier_calls
WHERE local_month = $month
GROUP BY domain, reason, carrier
ORDER BY sum(carrier_cost) DESC, domain, reason, carrier;
