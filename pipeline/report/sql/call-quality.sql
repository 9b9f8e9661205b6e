-- Answer-seizure ratio, average call duration and peak concurrent calls per customer in $domains, one month.
SELECT domain, CAST(calls AS BIGINT) AS calls, CAST(answered AS BIGINT) AS answered, CAST(missed AS BIGINT) AS missed,
       CAST(asr AS VARCHAR) AS asr, CAST(round(acd_s) AS BIGINT) AS acd_s,
       CAST(peak_concurrent AS BIGINT) AS peak_concurrent
FROM call_quality
WHERE list_contains($domains, domain) AND local_month = $month
ORDER BY domain;
