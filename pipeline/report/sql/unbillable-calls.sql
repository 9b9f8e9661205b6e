-- The unbillable-calls queue of the local month $month, per domain and reason (billing team's report).
SELECT domain, reason,
       CAST(count(*) AS BIGINT) AS calls,
       CAST(coalesce(sum(talk_s), 0) AS BIGINT) AS talk_s
FROM unbillable_calls
WHERE local_month = $month
GROUP BY domain, reason
ORDER BY domain, reason;
