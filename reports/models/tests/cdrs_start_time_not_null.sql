-- incremental: domain_month
-- Every CDR has a start time (it decides the partition, the local month and the price).
SELECT domain, id, month
FROM cdrs
WHERE start_time IS NULL
