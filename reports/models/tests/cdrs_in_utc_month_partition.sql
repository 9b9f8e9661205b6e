-- incremental: domain_month
-- Each CDR sits in the partition of the UTC month of its start time (the lake contract).
SELECT domain, id, month, start_time
FROM cdrs
WHERE start_time IS NOT NULL AND month IS DISTINCT FROM strftime(start_time AT TIME ZONE 'UTC', '%Y-%m')
