-- incremental: domain_month
-- (domain, id) is unique in the lake: a duplicate would be a CDR counted twice.
SELECT domain, id, count(*) AS versions, min(ingested_at) AS first_ingested, max(ingested_at) AS last_ingested
FROM cdrs
GROUP BY domain, id
HAVING count(*) > 1
