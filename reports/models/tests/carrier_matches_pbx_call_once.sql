-- A PBX call is in carrier_matches at most once per carrier: matched to one record, or pbx_only, never both.
SELECT carrier, domain, pbx_id, count(*) AS n
FROM carrier_matches
WHERE pbx_id IS NOT NULL
GROUP BY carrier, domain, pbx_id
HAVING count(*) > 1
