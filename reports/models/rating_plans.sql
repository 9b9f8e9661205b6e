-- depends_on: calls
-- incremental: domain_month
-- rating_plans: the plan (and plan version) that rates each domain's local month, with its
-- included-minutes pool. A closed month that was rated before is frozen: it keeps the plan
-- version recorded in state.duckdb (loaded here as frozen_ratings) until
-- `cdrpipe transform --rerate YYYY-MM` releases it. Open months use the current config.
WITH months AS (
  SELECT DISTINCT domain, local_month, time_zone FROM calls
),
chosen AS (
  SELECT
    m.domain,
    m.local_month,
    m.time_zone,
    coalesce(f.plan_id, dp.plan_id) AS plan_id,
    coalesce(f.plan_version, dp.plan_version) AS plan_version,
    coalesce(f.included_minutes, dp.included_minutes) AS included_minutes,
    f.plan_id IS NOT NULL AS frozen,
    f.rated_at AS frozen_at
  FROM months AS m
  LEFT JOIN frozen_ratings AS f ON f.domain = m.domain AND f.local_month = m.local_month
  LEFT JOIN domain_plans AS dp ON dp.domain = m.domain
)
SELECT
  c.domain,
  c.local_month,
  c.plan_id,
  c.plan_version,
  p.currency,
  p.decimals,
  c.included_minutes,
  CAST(c.included_minutes AS BIGINT) * 60 AS included_s_total,
  c.frozen,
  c.frozen_at,
  -- The local month has ended (its next 1st, local midnight, has passed) when the build ran.
  (strptime(c.local_month || '-01', '%Y-%m-%d') + INTERVAL 1 MONTH) AT TIME ZONE c.time_zone
    <= (SELECT built_at FROM build_info) AS month_closed
FROM chosen AS c
LEFT JOIN plans AS p ON p.plan_id = c.plan_id AND p.plan_version = c.plan_version
