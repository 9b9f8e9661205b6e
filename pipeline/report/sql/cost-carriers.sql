-- The cost side of the UTC month $month, per carrier with records in it: statuses and money (billing team's report).
SELECT
  carrier,
  coalesce(any_value(currency), 'USD') AS currency,
  CAST(count(*) FILTER (WHERE status <> 'pbx_only') AS BIGINT) AS records,
  CAST(count(*) FILTER (WHERE status = 'matched') AS BIGINT) AS matched,
  CAST(count(*) FILTER (WHERE status IN ('duration_dispute', 'cost_dispute')) AS BIGINT) AS disputes,
  CAST(count(*) FILTER (WHERE status = 'carrier_only') AS BIGINT) AS phantoms,
  CAST(count(*) FILTER (WHERE status = 'pbx_only') AS BIGINT) AS missing,
  CAST(coalesce(sum(carrier_cost), 0) AS DECIMAL(18, 6)) AS carrier_cost,
  CAST(coalesce(sum(disputed_amount), 0) AS DECIMAL(18, 6)) AS disputed_amount
FROM carrier_matches
WHERE month = $month
GROUP BY carrier
HAVING count(*) FILTER (WHERE status <> 'pbx_only') > 0
ORDER BY carrier;
