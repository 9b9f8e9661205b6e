-- The busiest users of each customer in $domains, one month ($limit rows per domain), with the
-- caller-id name they used most, and how many users there were in all (total_rows).
WITH names AS (
  SELECT domain, orig_user AS user_id, mode(caller_name) AS name
  FROM calls
  WHERE list_contains($domains, domain) AND local_month = $month AND direction = 'outbound'
    AND orig_user IS NOT NULL AND caller_name IS NOT NULL AND caller_name <> ''
  GROUP BY domain, orig_user
)
SELECT u.domain, u."user" AS user_id, n.name,
       CAST(u.calls AS BIGINT) AS calls, CAST(u.inbound_calls AS BIGINT) AS inbound_calls,
       CAST(u.outbound_calls AS BIGINT) AS outbound_calls, CAST(u.talk_s AS BIGINT) AS talk_s,
       CAST(u.billable_s AS BIGINT) AS billable_s, CAST(u.charge AS VARCHAR) AS charge,
       CAST(count(*) OVER (PARTITION BY u.domain) AS BIGINT) AS total_rows
FROM usage_by_user u
LEFT JOIN names n ON n.domain = u.domain AND n.user_id = u."user"
WHERE list_contains($domains, u.domain) AND u.local_month = $month
QUALIFY row_number() OVER (PARTITION BY u.domain ORDER BY u.calls DESC, u.talk_s DESC, u."user") <= $limit
ORDER BY u.domain, u.calls DESC, u.talk_s DESC, u."user";
