-- spend-velocity: a domain's rated outbound charge in one UTC hour above a fixed cap, or above
-- k times its own baseline: the average charge of the same hour of the week over the previous
-- weeks (so a weekly conference-call morning is no surprise, a 3 a.m. spree is).
-- Window: the UTC hour of the calls' start times. Key: '' (the whole domain).
-- Settings (alerts.rules.spend-velocity): hourly_cap, baseline_factor, baseline_weeks,
-- baseline_floor (below it a k-times rise is no velocity), severity.
-- Reads alert_calls (one row per call, `charge` from the deck or, `estimated`, a fallback rate).
WITH hourly AS (
  SELECT domain, date_trunc('hour', start_time) AS hour_start, count(*) AS calls, sum(charge) AS amount,
         bool_or(estimated) AS estimated, any_value(currency) AS currency,
         list(id ORDER BY charge DESC, id)[1:5] AS top_calls
  FROM alert_calls
  WHERE direction = 'outbound' AND charge > 0
  GROUP BY domain, date_trunc('hour', start_time)
),
weeks AS (
  SELECT h.domain, h.hour_start, unnest(range(1, s.baseline_weeks + 1)) AS wk
  FROM hourly AS h JOIN settings AS s USING (domain)
),
baseline AS (
  SELECT w.domain, w.hour_start, coalesce(sum(b.amount), 0) / count(*) AS baseline
  FROM weeks AS w
  LEFT JOIN hourly AS b ON b.domain = w.domain AND b.hour_start = w.hour_start - to_days(7 * w.wk)
  GROUP BY w.domain, w.hour_start
)
SELECT
  h.domain,
  '' AS key,
  h.hour_start AS window_start,
  h.hour_start + INTERVAL 1 HOUR AS window_end,
  s.severity,
  h.calls,
  h.amount,
  h.estimated,
  printf('Outbound charge %s %s in the hour from %s UTC is above %s%s',
    CAST(CAST(h.amount AS DECIMAL(18, 2)) AS VARCHAR), h.currency, strftime(h.hour_start, '%Y-%m-%d %H:%M'),
    CASE WHEN h.amount > s.hourly_cap THEN 'the hourly cap of ' || CAST(CAST(s.hourly_cap AS DECIMAL(18, 2)) AS VARCHAR)
         ELSE printf('%s times its usual %s for this hour of the week', CAST(s.baseline_factor AS VARCHAR), CAST(CAST(b.baseline AS DECIMAL(18, 2)) AS VARCHAR)) END,
    CASE WHEN h.estimated THEN ' (estimated in part from fallback rates: the deck does not price some destinations)' ELSE '' END) AS message,
  {'top_calls': h.top_calls, 'hourly_cap': s.hourly_cap, 'baseline': CAST(b.baseline AS DECIMAL(18, 2)),
   'baseline_factor': s.baseline_factor, 'baseline_weeks': s.baseline_weeks} AS evidence
FROM hourly AS h
JOIN settings AS s USING (domain)
JOIN baseline AS b ON b.domain = h.domain AND b.hour_start = h.hour_start
WHERE h.amount > s.hourly_cap
   OR (h.amount >= s.baseline_floor AND h.amount > s.baseline_factor * b.baseline)
