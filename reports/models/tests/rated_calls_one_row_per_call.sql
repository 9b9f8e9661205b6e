-- rated_calls has exactly one row per call in `calls` (no price matched twice, no call lost).
SELECT 'rated_calls' AS side, (SELECT count(*) FROM rated_calls) AS n_rated, (SELECT count(*) FROM calls) AS n_calls
WHERE (SELECT count(*) FROM rated_calls) <> (SELECT count(*) FROM calls)
   OR (SELECT count(*) FROM (SELECT DISTINCT domain, id FROM rated_calls)) <> (SELECT count(*) FROM rated_calls)
