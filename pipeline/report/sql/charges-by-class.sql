-- Charges per call class (domestic, international, toll-free, ...) per customer in $domains, one month.
SELECT domain, call_class, CAST(calls AS BIGINT) AS calls, CAST(billable_s AS BIGINT) AS billable_s,
       CAST(charge AS VARCHAR) AS charge
FROM charges_by_class
WHERE list_contains($domains, domain) AND local_month = $month
ORDER BY charges_by_class.domain, charges_by_class.charge DESC, billable_s DESC, call_class;
