-- Every carrier record is in carrier_matches exactly once (none lost to the matching, none matched twice).
SELECT c.record_key, count(m.record_key) AS n
FROM carrier_calls AS c
LEFT JOIN carrier_matches AS m ON m.record_key = c.record_key
GROUP BY c.record_key
HAVING count(m.record_key) <> 1
UNION ALL
SELECT m.record_key, 0 AS n
FROM carrier_matches AS m
WHERE m.status <> 'pbx_only' AND (m.record_key IS NULL OR m.record_key NOT IN (SELECT record_key FROM carrier_calls))
