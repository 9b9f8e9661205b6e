-- Where the customer called most (by billable time), one customer-month.
SELECT destination, call_class, CAST(calls AS BIGINT) AS calls, CAST(talk_s AS BIGINT) AS talk_s,
       CAST(billable_s AS BIGINT) AS billable_s, CAST(charge AS VARCHAR) AS charge,
       CAST(count(*) OVER () AS BIGINT) AS total_rows
FROM top_destinations
WHERE domain = $domain AND local_month = $month
ORDER BY top_destinations.charge DESC, billable_s DESC, calls DESC, destination
LIMIT $limit;
