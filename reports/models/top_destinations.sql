-- depends_on: rated_calls
-- incremental: domain_month
-- top_destinations: the 100 outbound destinations per domain and local month that cost the most
-- (then the most called), with `rank` 1 = top.
-- The grouping over every destination (about one group per two calls) holds numbers only: an
-- any_value() of text keeps its strings in the aggregate's own arena, which DuckDB cannot spill,
-- and on a month of 10M calls that ran out of the default budget. The labels are read afterwards,
-- for the ranked destinations only (one call class and rate per destination and domain-month).
WITH billed_out AS NOT MATERIALIZED (
  SELECT domain, local_month, remote_number, call_class, rate_description, answered, talk_s, billable_s, charge
  FROM rated_calls
  WHERE billable AND direction = 'outbound' AND remote_number IS NOT NULL
),
per_destination AS (
  SELECT
    domain,
    local_month,
    remote_number AS destination,
    CAST(count(*) AS INTEGER) AS calls,
    CAST(count(*) FILTER (WHERE answered) AS INTEGER) AS answered,
    CAST(sum(talk_s) AS BIGINT) AS talk_s,
    CAST(sum(billable_s) AS BIGINT) AS billable_s,
    CAST(sum(charge) AS DECIMAL(18, 6)) AS charge
  FROM billed_out
  GROUP BY domain, local_month, remote_number
),
ranked AS (
  SELECT *
  FROM (
    SELECT *, CAST(row_number() OVER (
      PARTITION BY domain, local_month ORDER BY charge DESC, calls DESC, talk_s DESC, destination) AS INTEGER) AS rank
    FROM per_destination
  )
  WHERE rank <= 100
),
labels AS (
  SELECT b.domain, b.local_month, b.remote_number AS destination, any_value(b.call_class) AS call_class,
    any_value(b.rate_description) AS rate_description
  FROM billed_out AS b
  SEMI JOIN ranked AS r ON r.domain = b.domain AND r.local_month = b.local_month AND r.destination = b.remote_number
  GROUP BY b.domain, b.local_month, b.remote_number
)
SELECT r.domain, r.local_month, r.destination, l.call_class, l.rate_description, r.calls, r.answered, r.talk_s, r.billable_s, r.charge, r.rank
FROM ranked AS r
JOIN labels AS l USING (domain, local_month, destination)
