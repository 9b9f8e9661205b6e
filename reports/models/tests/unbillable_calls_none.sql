-- incremental: domain_month
-- severity: warn
-- Answered outbound calls no deck row prices (listed in unbillable_calls with the reason): revenue not billed.
SELECT domain, id, local_date, dialed_number, talk_s, reason
FROM unbillable_calls
