-- The matching leaves no pair behind: no phantom record and no missing PBX call of the same carrier
-- share a destination within the time tolerance (they should have been matched to each other).
SELECT r.carrier, r.record_key, p.domain, p.pbx_id
FROM carrier_matches AS r
JOIN carrier_terms AS t ON t.carrier = r.carrier
JOIN carrier_matches AS p
  ON p.carrier = r.carrier AND p.status = 'pbx_only' AND p.to_e164 = r.to_e164
 AND abs(epoch_ms(r.carrier_start) - epoch_ms(p.pbx_answer_time)) <= CAST(round(t.time_tolerance_s * 1000) AS BIGINT)
WHERE r.status = 'carrier_only'
