-- incremental: domain_month
-- charge >= 0, 0 <= included_s <= billable_s, billable_s >= talk_s when billed, nothing billed unanswered.
SELECT domain, id, talk_s, billable_s, included_s, charged_s, charge
FROM rated_calls
WHERE charge IS NULL OR charge < 0
   OR included_s < 0 OR included_s > billable_s OR charged_s <> billable_s - included_s
   OR (billable_s > 0 AND billable_s < talk_s)
   OR (NOT answered AND billable_s > 0)
