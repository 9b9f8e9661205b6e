-- Where each customer in $domains called most (by billable time), one month: $limit rows per
-- domain, and how many destinations there were in all (total_rows).
SELECT domain, destination, call_class, CAST(calls AS BIGINT) AS calls, CAST(talk_s AS BIGINT) AS talk_s,
       CAST(billable_s AS BIGINT) AS billable_s, CAST(charge AS VARCHAR) AS charge,
       CAST(count(*) OVER (PARTITION BY domain) AS BIGINT) AS total_rows
FROM top_destinations
WHERE list_contains($domains, domain) AND local_month = $month
QUALIFY row_number() OVER (PARTITION BY domain ORDER BY top_destinations.charge DESC, billable_s DESC, calls DESC, destination) <= $limit
ORDER BY top_destinations.domain, top_destinations.charge DESC, billable_s DESC, calls DESC, destination;
