-- depends_on: rated_calls
-- incremental: domain_month
-- unbillable_calls: answered outbound calls that no deck row prices. rated_calls bills them 0 s
-- and nothing, so this is the billing team's queue of revenue not invoiced: fix the rate deck (or
-- the number plan) under a new plan version and run the transform again. reason:
--   not_e164        the dialled number is neither E.164 nor an emergency code (short codes,
--                   feature codes, mistyped numbers), so there is nothing to look up
--   no_deck_prefix  a public number or emergency code that no prefix of the plan's deck matches
--                   on the call's local date
SELECT
  domain,
  id,
  start_time,
  local_month,
  local_date,
  direction,
  orig_user,
  dialed_number,
  rating_key,
  call_class,
  talk_s,
  plan_id,
  plan_version,
  CASE WHEN rating_key IS NULL THEN 'not_e164' ELSE 'no_deck_prefix' END AS reason
FROM rated_calls
WHERE billable AND answered AND talk_s > 0 AND rate_rule = 'deck' AND per_minute IS NULL
