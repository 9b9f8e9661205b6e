-- depends_on: carrier_matches, rated_calls
-- margin_monthly: what each customer earned per call class, destination prefix and carrier, in
-- the customer's local month (as their invoice counts it). Revenue is the call's charge in
-- rated_calls; cost is the carrier's charge when a carrier record matched the call (actual), else
-- the carrier's buy deck applied to our seconds (expected), else unknown. Covers the calls a
-- carrier should have billed (see carrier_matches) in months some carrier has records for; a
-- call two carriers both matched counts once, with the first carrier by name.
WITH per_call AS (
  SELECT
    domain,
    pbx_id AS id,
    carrier,
    CASE WHEN status = 'pbx_only' THEN deck_cost ELSE carrier_cost END AS cost,
    CASE WHEN status <> 'pbx_only' THEN 'actual' WHEN deck_cost IS NOT NULL THEN 'expected' ELSE 'unknown' END AS cost_source,
    deck_prefix
  FROM carrier_matches
  WHERE pbx_id IS NOT NULL
  -- A carrier's record first, then a deck's estimate, then the first carrier by name.
  QUALIFY row_number() OVER (
    PARTITION BY domain, pbx_id
    ORDER BY status = 'pbx_only', deck_cost IS NULL, carrier) = 1
)
SELECT
  r.local_month AS month,
  r.domain,
  r.call_class,
  coalesce(r.rate_prefix, pc.deck_prefix, '') AS destination_prefix,
  pc.carrier,
  any_value(r.rate_description ORDER BY r.id) AS destination,
  any_value(r.currency ORDER BY r.id) AS currency,
  CAST(count(*) AS BIGINT) AS calls,
  CAST(count(*) FILTER (WHERE pc.cost_source = 'actual') AS BIGINT) AS calls_actual_cost,
  CAST(count(*) FILTER (WHERE pc.cost_source = 'expected') AS BIGINT) AS calls_expected_cost,
  CAST(count(*) FILTER (WHERE pc.cost_source = 'unknown') AS BIGINT) AS calls_unknown_cost,
  CAST(sum(coalesce(r.charge, 0)) AS DECIMAL(18, 6)) AS revenue,
  CAST(sum(coalesce(pc.cost, 0)) AS DECIMAL(18, 6)) AS cost,
  CAST(sum(coalesce(r.charge, 0)) - sum(coalesce(pc.cost, 0)) AS DECIMAL(18, 6)) AS margin,
  CASE WHEN sum(coalesce(r.charge, 0)) = 0 THEN NULL
       ELSE round(CAST((sum(coalesce(r.charge, 0)) - sum(coalesce(pc.cost, 0))) AS DOUBLE) * 100 / CAST(sum(coalesce(r.charge, 0)) AS DOUBLE), 2)
  END AS margin_pct
FROM per_call AS pc
JOIN rated_calls AS r ON r.domain = pc.domain AND r.id = pc.id
GROUP BY ALL
