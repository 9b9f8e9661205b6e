-- incremental: domain_month
-- sum(charge) and sum(billable_s) agree across rated_calls, usage_monthly, charges_by_class,
-- usage_daily, usage_by_user and usage_by_number for every (domain, local_month).
WITH per_model AS (
  SELECT 'usage_monthly' AS model, domain, local_month, sum(charge) AS charge, sum(billable_s) AS billable_s FROM usage_monthly GROUP BY ALL
  UNION ALL SELECT 'charges_by_class', domain, local_month, sum(charge), sum(billable_s) FROM charges_by_class GROUP BY ALL
  UNION ALL SELECT 'usage_daily', domain, local_month, sum(charge), sum(billable_s) FROM usage_daily GROUP BY ALL
  UNION ALL SELECT 'usage_by_user', domain, local_month, sum(charge), sum(billable_s) FROM usage_by_user GROUP BY ALL
  UNION ALL SELECT 'usage_by_number', domain, local_month, sum(charge), sum(billable_s) FROM usage_by_number GROUP BY ALL
),
truth AS (
  SELECT domain, local_month, sum(charge) AS charge, sum(billable_s) AS billable_s FROM rated_calls GROUP BY ALL
)
SELECT m.model, t.domain, t.local_month, t.charge AS rated_charge, m.charge AS model_charge,
       t.billable_s AS rated_billable_s, m.billable_s AS model_billable_s
FROM truth AS t
LEFT JOIN per_model AS m ON m.domain = t.domain AND m.local_month = t.local_month
WHERE m.model IS NULL OR m.charge <> t.charge OR m.billable_s <> t.billable_s
