-- Calls per local hour of day (0-23) over one month, per customer in $domains.
SELECT domain, CAST(local_hour AS INTEGER) AS local_hour, CAST(calls AS BIGINT) AS calls, CAST(answered AS BIGINT) AS answered
FROM usage_hourly
WHERE list_contains($domains, domain) AND local_month = $month
ORDER BY usage_hourly.domain, usage_hourly.local_hour;
