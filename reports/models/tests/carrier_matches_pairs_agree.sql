-- A matched pair has the same E.164 destination on both sides and starts within the carrier's time tolerance.
SELECT m.carrier, m.record_key, m.domain, m.pbx_id, m.offset_s
FROM carrier_matches AS m
JOIN carrier_terms AS t ON t.carrier = m.carrier
LEFT JOIN calls AS c ON c.domain = m.domain AND c.id = m.pbx_id
WHERE m.status IN ('matched', 'duration_dispute', 'cost_dispute')
  AND (c.id IS NULL OR c.dialed_e164 IS DISTINCT FROM m.to_e164 OR m.offset_s IS NULL OR abs(m.offset_s) > t.time_tolerance_s + 0.0005)
