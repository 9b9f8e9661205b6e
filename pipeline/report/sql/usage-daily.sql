-- Calls per local day of each customer in $domains, one month (days without calls are absent; the report fills them).
SELECT domain, strftime(local_date, '%Y-%m-%d') AS local_date, CAST(calls AS BIGINT) AS calls,
       CAST(answered AS BIGINT) AS answered, CAST(missed AS BIGINT) AS missed,
       CAST(talk_s AS BIGINT) AS talk_s, CAST(charge AS VARCHAR) AS charge
FROM usage_daily
WHERE list_contains($domains, domain) AND local_month = $month
ORDER BY usage_daily.domain, local_date;
