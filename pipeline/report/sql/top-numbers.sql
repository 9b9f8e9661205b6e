-- Each customer's own numbers (DIDs) with the most calls, one month: $limit rows per domain in
-- $domains, and how many numbers there were in all (total_rows).
SELECT domain, number, CAST(calls AS BIGINT) AS calls, CAST(inbound_calls AS BIGINT) AS inbound_calls,
       CAST(outbound_calls AS BIGINT) AS outbound_calls, CAST(talk_s AS BIGINT) AS talk_s,
       CAST(charge AS VARCHAR) AS charge, CAST(count(*) OVER (PARTITION BY domain) AS BIGINT) AS total_rows
FROM usage_by_number
WHERE list_contains($domains, domain) AND local_month = $month
QUALIFY row_number() OVER (PARTITION BY domain ORDER BY calls DESC, talk_s DESC, number) <= $limit
ORDER BY usage_by_number.domain, calls DESC, talk_s DESC, number;
