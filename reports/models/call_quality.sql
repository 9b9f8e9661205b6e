-- depends_on: calls
-- incremental: domain_month
-- call_quality: per domain and local month, over billable legs.
--   asr             answered / calls (answer-seizure ratio, 0..1, 6 decimals, half-up)
--   acd_s           talk seconds of answered calls / answered calls (average call duration, half-up)
--   peak_concurrent the most legs up at one instant: a sweep over start (+1) and end (-1) events
--                   in time order, ends before starts at the same instant; a leg without an end
--                   time ends at start + duration_s. A leg counts in the local month it starts
--                   in; peak_at is the first instant the peak was reached
WITH legs AS (
  SELECT domain, local_month, start_time,
         greatest(coalesce(end_time, start_time + to_seconds(duration_s)), start_time) AS end_at,
         answered, talk_s
  FROM calls
  WHERE billable
),
events AS (
  SELECT domain, local_month, start_time AS event_at, 1 AS delta FROM legs
  UNION ALL
  SELECT domain, local_month, end_at AS event_at, -1 AS delta FROM legs
),
sweep AS (
  SELECT domain, local_month, event_at,
         CAST(sum(delta) OVER (PARTITION BY domain, local_month ORDER BY event_at, delta ROWS UNBOUNDED PRECEDING) AS BIGINT) AS up
  FROM events
),
peak_values AS (
  SELECT domain, local_month, max(up) AS peak_concurrent
  FROM sweep
  GROUP BY domain, local_month
),
peaks AS (
  -- The first instant the peak was reached.
  SELECT v.domain, v.local_month, v.peak_concurrent, min(s.event_at) AS peak_at
  FROM peak_values AS v
  JOIN sweep AS s ON s.domain = v.domain AND s.local_month = v.local_month AND s.up = v.peak_concurrent
  GROUP BY v.domain, v.local_month, v.peak_concurrent
),
totals AS (
  SELECT domain, local_month,
         CAST(count(*) AS INTEGER) AS calls,
         CAST(count(*) FILTER (WHERE answered) AS INTEGER) AS answered,
         CAST(count(*) FILTER (WHERE NOT answered) AS INTEGER) AS missed,
         CAST(coalesce(sum(talk_s) FILTER (WHERE answered), 0) AS BIGINT) AS answered_talk_s
  FROM legs
  GROUP BY domain, local_month
)
SELECT
  t.domain,
  t.local_month,
  t.calls,
  t.answered,
  t.missed,
  from_micros(CASE WHEN t.calls = 0 THEN 0
                   ELSE (2 * CAST(t.answered AS HUGEINT) * 1000000 + t.calls) // (2 * t.calls) END) AS asr,
  CAST(CASE WHEN t.answered = 0 THEN 0
            ELSE (2 * t.answered_talk_s + t.answered) // (2 * t.answered) END AS INTEGER) AS acd_s,
  CAST(p.peak_concurrent AS INTEGER) AS peak_concurrent,
  p.peak_at
FROM totals AS t
JOIN peaks AS p ON p.domain = t.domain AND p.local_month = t.local_month
