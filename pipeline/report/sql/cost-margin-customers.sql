-- Margin per customer in the local month $month, lowest margin first (billing team's report).
SELECT
  domain,
  any_value(currency) AS currency,
  CAST(sum(calls) AS BIGINT) AS calls,
  CAST(sum(revenue) AS DECIMAL(18, 6)) AS revenue,
  CAST(sum(cost) AS DECIMAL(18, 6)) AS cost,
  CAST(sum(margin) AS DECIMAL(18, 6)) AS margin,
  CASE WHEN sum(revenue) = 0 THEN NULL
       ELSE round(CAST(sum(margin) AS DOUBLE) * 100 / CAST(sum(revenue) AS DOUBLE), 2) END AS margin_pct
FROM margin_monthly
WHERE month = $month
GROUP BY domain
ORDER BY sum(margin), domain;
