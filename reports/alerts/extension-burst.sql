-- extension-burst: one extension starting outbound calls faster than a person can dial: more
-- than max_calls_per_minute in one clock minute. Window: the UTC hour. Key: the extension.
-- Settings (alerts.rules.extension-burst): max_calls_per_minute, severity.
WITH per_minute AS (
  SELECT domain, extension, date_trunc('minute', start_time) AS minute_start, count(*) AS calls,
         sum(charge) AS amount, bool_or(estimated) AS estimated, any_value(currency) AS currency,
         list(id ORDER BY start_time, id)[1:5] AS sample_calls
  FROM alert_calls
  WHERE direction = 'outbound' AND extension IS NOT NULL AND extension <> ''
  GROUP BY domain, extension, date_trunc('minute', start_time)
)
SELECT
  m.domain,
  m.extension AS key,
  date_trunc('hour', m.minute_start) AS window_start,
  date_trunc('hour', m.minute_start) + INTERVAL 1 HOUR AS window_end,
  any_value(s.severity) AS severity,
  sum(m.calls) AS calls,
  sum(m.amount) AS amount,
  bool_or(m.estimated) AS estimated,
  printf('Extension %s placed up to %d outbound calls in one minute (limit %d) in %d minute%s from %s UTC%s',
    m.extension, max(m.calls), any_value(s.max_calls_per_minute), count(*), CASE WHEN count(*) > 1 THEN 's' ELSE '' END,
    strftime(min(m.minute_start), '%Y-%m-%d %H:%M'),
    CASE WHEN bool_or(m.estimated) THEN ' (charge estimated in part from fallback rates)' ELSE '' END) AS message,
  {'peak_calls_per_minute': max(m.calls), 'limit': any_value(s.max_calls_per_minute), 'minutes_over_limit': count(*),
   'sample_calls': flatten(list(m.sample_calls ORDER BY m.minute_start))[1:5]} AS evidence
FROM per_minute AS m
JOIN settings AS s USING (domain)
WHERE m.calls > s.max_calls_per_minute
GROUP BY m.domain, m.extension, date_trunc('hour', m.minute_start)
