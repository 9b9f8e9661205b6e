-- depends_on: carrier_matches, rated_calls
-- unbilled_carrier_calls: revenue leakage. Calls a carrier charged us for (a carrier record with
-- a cost, matched to one of our calls) that we billed no customer for. reason:
--   registration_noise, self_call  the PBX's call is not billable (rated_calls.billable)
--   unpriced                       no sell-side deck row prices the destination (unbillable_calls)
--   free_to_customer               the sell-side price is zero (toll-free, emergency, a free rate)
-- Calls covered by a plan's included minutes are not leakage: the plan's fee pays for them.
SELECT
  m.carrier,
  m.month,
  m.record_key,
  m.call_id,
  m.carrier_start,
  m.to_e164,
  m.carrier_seconds,
  m.carrier_cost,
  m.currency,
  m.domain,
  m.pbx_id,
  r.local_month,
  r.orig_user,
  r.dialed_number,
  r.call_class,
  r.talk_s,
  r.charge,
  CASE
    WHEN r.is_reg_noise THEN 'registration_noise'
    WHEN NOT r.billable THEN 'self_call'
    WHEN r.per_minute IS NULL THEN 'unpriced'
    ELSE 'free_to_customer'
  END AS reason
FROM carrier_matches AS m
JOIN rated_calls AS r ON r.domain = m.domain AND r.id = m.pbx_id
WHERE m.status IN ('matched', 'duration_dispute', 'cost_dispute')
  AND m.carrier_cost > 0
  AND coalesce(r.charge, 0) = 0
  AND r.included_s = 0
