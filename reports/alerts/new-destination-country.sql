-- new-destination-country: outbound calls to a country the domain has not called in the
-- history days before, at least min_calls of them in one UTC day.
-- Window: the UTC day of the calls' start times. Key: the country calling code, e.g. '252'.
-- Settings (alerts.rules.new-destination-country): history_days, min_calls, severity.
-- The US and Canada (code 1) are home, never new.
WITH intl AS (
  SELECT domain, id, start_time, country_code, dialed_e164, extension, charge, estimated, currency
  FROM alert_calls
  WHERE high_cost AND country_code IS NOT NULL AND country_code <> '1'
),
daily AS (
  SELECT domain, country_code, date_trunc('day', start_time) AS day_start, count(*) AS calls, sum(charge) AS amount,
         bool_or(estimated) AS estimated, any_value(currency) AS currency,
         list(DISTINCT extension ORDER BY extension) AS extensions, list(id ORDER BY start_time, id)[1:5] AS sample_calls,
         list(DISTINCT dialed_e164 ORDER BY dialed_e164)[1:5] AS sample_numbers
  FROM intl
  GROUP BY domain, country_code, date_trunc('day', start_time)
)
SELECT
  d.domain,
  d.country_code AS key,
  d.day_start AS window_start,
  d.day_start + INTERVAL 1 DAY AS window_end,
  s.severity,
  d.calls,
  d.amount,
  d.estimated,
  printf('%d calls to country code +%s on %s, a destination not called in the %d days before (extensions %s; %s %s%s)',
    d.calls, d.country_code, strftime(d.day_start, '%Y-%m-%d'), s.history_days, array_to_string(d.extensions, ', '),
    CAST(CAST(d.amount AS DECIMAL(18, 2)) AS VARCHAR), d.currency,
    CASE WHEN d.estimated THEN ', estimated in part from fallback rates' ELSE '' END) AS message,
  {'sample_calls': d.sample_calls, 'sample_numbers': d.sample_numbers, 'history_days': s.history_days, 'min_calls': s.min_calls} AS evidence
FROM daily AS d
JOIN settings AS s USING (domain)
WHERE d.calls >= s.min_calls
  AND NOT EXISTS (
    SELECT 1 FROM intl AS h
    WHERE h.domain = d.domain AND h.country_code = d.country_code
      AND h.start_time < d.day_start AND h.start_time >= d.day_start - to_days(s.history_days))
