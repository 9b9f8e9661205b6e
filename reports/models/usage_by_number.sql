-- depends_on: rated_calls
-- incremental: domain_month
-- usage_by_number: per domain, local month and the customer's own number on the call (the DID
-- called for inbound, the caller id presented for outbound); '(none)' when there is none.
SELECT
  domain,
  local_month,
  coalesce(did, '(none)') AS number,
  CAST(count(*) FILTER (WHERE billable) AS INTEGER) AS calls,
  CAST(count(*) FILTER (WHERE billable AND direction IN ('inbound', 'missed')) AS INTEGER) AS inbound_calls,
  CAST(count(*) FILTER (WHERE billable AND direction = 'outbound') AS INTEGER) AS outbound_calls,
  CAST(coalesce(sum(talk_s) FILTER (WHERE billable), 0) AS BIGINT) AS talk_s,
  CAST(sum(billable_s) AS BIGINT) AS billable_s,
  CAST(sum(charge) AS DECIMAL(18, 6)) AS charge
FROM rated_calls
GROUP BY ALL
