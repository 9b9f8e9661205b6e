-- Answer-seizure ratio, average call duration and peak concurrent calls for one customer-month.
SELECT CAST(calls AS BIGINT) AS calls, CAST(answered AS BIGINT) AS answered, CAST(missed AS BIGINT) AS missed,
       CAST(asr AS VARCHAR) AS asr, CAST(round(acd_s) AS BIGINT) AS acd_s,
       CAST(peak_concurrent AS BIGINT) AS peak_concurrent
FROM call_quality
WHERE domain = $domain AND local_month = $month;
