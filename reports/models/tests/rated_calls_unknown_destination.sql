-- severity: warn
-- Answered outbound calls to numbers that are neither E.164 nor an emergency code: not priced.
SELECT domain, id, local_date, dialed_number, talk_s
FROM rated_calls
WHERE billable AND answered AND talk_s > 0 AND direction = 'outbound' AND call_class = 'unknown'
