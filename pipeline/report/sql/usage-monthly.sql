-- Each customer's totals in $domains for the report month and the month before ($month, $previous_month).
SELECT domain, local_month, time_zone,
       CAST(calls AS BIGINT) AS calls, CAST(answered AS BIGINT) AS answered, CAST(missed AS BIGINT) AS missed,
       CAST(inbound_calls AS BIGINT) AS inbound_calls, CAST(outbound_calls AS BIGINT) AS outbound_calls,
       CAST(internal_calls AS BIGINT) AS internal_calls,
       CAST(inbound_s AS BIGINT) AS inbound_s, CAST(outbound_s AS BIGINT) AS outbound_s,
       CAST(internal_s AS BIGINT) AS internal_s, CAST(talk_s AS BIGINT) AS talk_s,
       CAST(billable_s AS BIGINT) AS billable_s,
       CAST(included_s_used AS BIGINT) AS included_s_used, CAST(included_s_total AS BIGINT) AS included_s_total,
       CAST(charge AS VARCHAR) AS charge, currency
FROM usage_monthly
WHERE list_contains($domains, domain) AND local_month IN ($month, $previous_month)
ORDER BY domain, local_month;
