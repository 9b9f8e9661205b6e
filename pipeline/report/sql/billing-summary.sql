-- Every domain's billed totals for its own local month $month (the billing team's report).
SELECT d.domain, d.description, d.time_zone,
       CAST(coalesce(u.calls, 0) AS BIGINT) AS calls,
       CAST(coalesce(u.answered, 0) AS BIGINT) AS answered,
       CAST(coalesce(u.billable_s, 0) AS BIGINT) AS billable_s,
       CAST(coalesce(u.included_s_used, 0) AS BIGINT) AS included_s_used,
       CAST(coalesce(u.charge, 0) AS VARCHAR) AS charge,
       u.currency
FROM domains d
LEFT JOIN usage_monthly u ON u.domain = d.domain AND u.local_month = $month
ORDER BY d.domain;
