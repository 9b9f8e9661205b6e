-- usage_by_number: per domain, local month and the customer's own number on the call (the DID
-- called for inbound, the caller id presented for outbound); '(none)' when there is none.
SELECT
  domain,
  local_month,
  coalesce(did, '(none)') AS number,
  count(*) FILTER (WHERE billable) AS calls,
  count(*) FILTER (WHERE billable AND direction IN ('inbound', 'missed')) AS inbound_calls,
  count(*) FILTER (WHERE billable AND direction = 'outbound') AS outbound_calls,
  coalesce(sum(talk_s) FILTER (WHERE billable), 0) AS talk_s,
  sum(billable_s) AS billable_s,
  CAST(sum(charge) AS DECIMAL(18, 6)) AS charge
FROM rated_calls
GROUP BY ALL
