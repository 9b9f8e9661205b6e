-- The customer's own numbers (DIDs) with the most calls in one customer-month.
SELECT number, CAST(calls AS BIGINT) AS calls, CAST(inbound_calls AS BIGINT) AS inbound_calls,
       CAST(outbound_calls AS BIGINT) AS outbound_calls, CAST(talk_s AS BIGINT) AS talk_s,
       CAST(charge AS VARCHAR) AS charge, CAST(count(*) OVER () AS BIGINT) AS total_rows
FROM usage_by_number
WHERE domain = $domain AND local_month = $month
ORDER BY calls DESC, talk_s DESC, number
LIMIT $limit;
