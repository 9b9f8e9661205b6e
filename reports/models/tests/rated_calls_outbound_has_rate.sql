-- Every billable, answered outbound call to a known kind of number found a price in the deck
-- (or the plan has no version loaded). An unpriced call would be given away.
SELECT domain, id, local_date, dialed_number, rating_key, call_class, plan_id, plan_version
FROM rated_calls
WHERE billable AND answered AND talk_s > 0 AND direction = 'outbound' AND call_class <> 'unknown'
  AND (per_minute IS NULL OR plan_version IS NULL)
