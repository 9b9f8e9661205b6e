-- incremental: domain_month
-- Every billable inbound call was priced by the plan's inbound or toll-free inbound rule.
SELECT domain, id, direction, call_class, plan_id, plan_version
FROM rated_calls
WHERE billable AND direction IN ('inbound', 'missed') AND per_minute IS NULL
