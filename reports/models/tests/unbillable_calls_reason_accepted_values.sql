-- unbillable_calls.reason is one of not_e164, no_deck_prefix.
SELECT domain, id, reason
FROM unbillable_calls
WHERE reason IS NULL OR reason NOT IN ('not_e164', 'no_deck_prefix')
