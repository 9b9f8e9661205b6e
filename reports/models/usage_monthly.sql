-- usage_monthly: one row per domain and local month. Counts are of billable legs (registration
-- noise and self-calls are counted apart); seconds are talk seconds unless named otherwise.
SELECT
  r.domain,
  r.local_month,
  any_value(r.time_zone) AS time_zone,
  count(*) FILTER (WHERE r.billable) AS calls,
  count(*) FILTER (WHERE r.billable AND r.answered) AS answered,
  count(*) FILTER (WHERE r.billable AND NOT r.answered) AS missed,
  count(*) FILTER (WHERE r.billable AND r.direction IN ('inbound', 'missed')) AS inbound_calls,
  count(*) FILTER (WHERE r.billable AND r.direction = 'outbound') AS outbound_calls,
  count(*) FILTER (WHERE r.billable AND r.direction = 'internal') AS internal_calls,
  coalesce(sum(r.talk_s) FILTER (WHERE r.billable AND r.direction IN ('inbound', 'missed')), 0) AS inbound_s,
  coalesce(sum(r.talk_s) FILTER (WHERE r.billable AND r.direction = 'outbound'), 0) AS outbound_s,
  coalesce(sum(r.talk_s) FILTER (WHERE r.billable AND r.direction = 'internal'), 0) AS internal_s,
  coalesce(sum(r.talk_s) FILTER (WHERE r.billable), 0) AS talk_s,
  coalesce(sum(r.duration_s) FILTER (WHERE r.billable), 0) AS duration_s,
  sum(r.billable_s) AS billable_s,
  sum(r.included_s) AS included_s_used,
  any_value(p.included_s_total) AS included_s_total,
  CAST(sum(r.charge) AS DECIMAL(18, 6)) AS charge,
  any_value(r.currency) AS currency,
  any_value(r.plan_id) AS plan_id,
  any_value(r.plan_version) AS plan_version,
  count(*) FILTER (WHERE r.is_reg_noise) AS reg_noise_legs,
  count(*) FILTER (WHERE r.is_self_call AND NOT r.is_reg_noise) AS self_calls
FROM rated_calls AS r
LEFT JOIN rating_plans AS p ON p.domain = r.domain AND p.local_month = r.local_month
GROUP BY r.domain, r.local_month
