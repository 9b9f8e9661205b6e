-- The month's billable call legs of each customer in $domains, in local time: the CSV attachments.
-- Its billable_s and charge columns sum to usage_monthly's for the same (domain, local_month).
SELECT domain, strftime(start_local, '%Y-%m-%d %H:%M:%S') AS start_local, id, direction,
       caller_name, caller_number, dialed_number, did, remote_number,
       coalesce(orig_user, term_user) AS user_id, call_class, rate_description,
       CAST(talk_s AS BIGINT) AS talk_s, CAST(billable_s AS BIGINT) AS billable_s,
       CAST(charge AS VARCHAR) AS charge, currency
FROM rated_calls
WHERE list_contains($domains, domain) AND local_month = $month AND billable
ORDER BY rated_calls.domain, rated_calls.start_local, rated_calls.id;
