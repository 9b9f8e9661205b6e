-- Calls per local hour of day (0-23) over one customer-month.
SELECT CAST(local_hour AS INTEGER) AS local_hour, CAST(calls AS BIGINT) AS calls, CAST(answered AS BIGINT) AS answered
FROM usage_hourly
WHERE domain = $domain AND local_month = $month
ORDER BY local_hour;
