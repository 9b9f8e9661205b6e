-- incremental: domain_month
-- direction is one of outbound, inbound, missed, internal.
SELECT domain, id, direction
FROM cdrs
WHERE direction IS NULL OR direction NOT IN ('outbound', 'inbound', 'missed', 'internal')
