-- depends_on: rated_calls, rating_plans
-- incremental: domain_month
-- usage_monthly: one row per domain and local month. Counts are of billable legs (registration
-- noise and self-calls are counted apart); seconds are talk seconds unless named otherwise.
SELECT
  r.domain,
  r.local_month,
  any_value(r.time_zone) AS time_zone,
  CAST(count(*) FILTER (WHERE r.billable) AS INTEGER) AS calls,
  CAST(count(*) FILTER (WHERE r.billable AND r.answered) AS INTEGER) AS answered,
  CAST(count(*) FILTER (WHERE r.billable AND NOT r.answered) AS INTEGER) AS missed,
  CAST(count(*) FILTER (WHERE r.billable AND r.direction IN ('inbound', 'missed')) AS INTEGER) AS inbound_calls,
  CAST(count(*) FILTER (WHERE r.billable AND r.direction = 'outbound') AS INTEGER) AS outbound_calls,
  CAST(count(*) FILTER (WHERE r.billable AND r.direction = 'internal') AS INTEGER) AS internal_calls,
  CAST(coalesce(sum(r.talk_s) FILTER (WHERE r.billable AND r.direction IN ('inbound', 'missed')), 0) AS BIGINT) AS inbound_s,
  CAST(coalesce(sum(r.talk_s) FILTER (WHERE r.billable AND r.direction = 'outbound'), 0) AS BIGINT) AS outbound_s,
  CAST(coalesce(sum(r.talk_s) FILTER (WHERE r.billable AND r.direction = 'internal'), 0) AS BIGINT) AS internal_s,
  CAST(coalesce(sum(r.talk_s) FILTER (WHERE r.billable), 0) AS BIGINT) AS talk_s,
  CAST(coalesce(sum(r.duration_s) FILTER (WHERE r.billable), 0) AS BIGINT) AS duration_s,
  CAST(sum(r.billable_s) AS BIGINT) AS billable_s,
  CAST(sum(r.included_s) AS BIGINT) AS included_s_used,
  any_value(p.included_s_total) AS included_s_total,
  CAST(sum(r.charge) AS DECIMAL(18, 6)) AS charge,
  any_value(r.currency) AS currency,
  any_value(r.plan_id) AS plan_id,
  any_value(r.plan_version) AS plan_version,
  CAST(count(*) FILTER (WHERE r.is_reg_noise) AS INTEGER) AS reg_noise_legs,
  CAST(count(*) FILTER (WHERE r.is_self_call AND NOT r.is_reg_noise) AS INTEGER) AS self_calls
FROM rated_calls AS r
LEFT JOIN rating_plans AS p ON p.domain = r.domain AND p.local_month = r.local_month
GROUP BY r.domain, r.local_month
