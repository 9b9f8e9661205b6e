-- depends_on: rated_calls
-- incremental: domain_month
-- top_destinations: the 100 outbound destinations per domain and local month that cost the most
-- (then the most called), with `rank` 1 = top.
WITH per_destination AS (
  SELECT
    domain,
    local_month,
    remote_number AS destination,
    any_value(call_class) AS call_class,
    any_value(rate_description) AS rate_description,
    CAST(count(*) AS INTEGER) AS calls,
    CAST(count(*) FILTER (WHERE answered) AS INTEGER) AS answered,
    CAST(sum(talk_s) AS BIGINT) AS talk_s,
    CAST(sum(billable_s) AS BIGINT) AS billable_s,
    CAST(sum(charge) AS DECIMAL(18, 6)) AS charge
  FROM rated_calls
  WHERE billable AND direction = 'outbound' AND remote_number IS NOT NULL
  GROUP BY domain, local_month, remote_number
)
SELECT *
FROM (
  SELECT *, CAST(row_number() OVER (
    PARTITION BY domain, local_month ORDER BY charge DESC, calls DESC, talk_s DESC, destination) AS INTEGER) AS rank
  FROM per_destination
)
WHERE rank <= 100
