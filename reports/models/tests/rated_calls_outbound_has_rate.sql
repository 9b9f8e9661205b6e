-- incremental: domain_month
-- Every billable, answered outbound call found a price in the deck or is listed in unbillable_calls,
-- and every one was rated under a loaded plan version: no call is given away unseen.
SELECT r.domain, r.id, r.local_date, r.dialed_number, r.rating_key, r.call_class, r.plan_id, r.plan_version
FROM rated_calls AS r
WHERE r.billable AND r.answered AND r.talk_s > 0 AND r.direction = 'outbound'
  AND (r.plan_version IS NULL
       OR (r.per_minute IS NULL AND NOT EXISTS (SELECT 1 FROM unbillable_calls AS u WHERE u.domain = r.domain AND u.id = r.id)))
