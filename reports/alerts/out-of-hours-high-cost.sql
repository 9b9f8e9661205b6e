-- out-of-hours-high-cost: international or premium outbound calls started outside the domain's
-- business hours (its own time zone), by count or by charge, in one UTC hour.
-- Window: the UTC hour of the calls' start times. Key: '' (the whole domain).
-- Settings (alerts.rules.out-of-hours-high-cost): min_calls, min_amount, severity; business_days
-- (ISO weekdays), business_start, business_end ("HH:MM", local) from alerts.businessHours.
WITH out_of_hours AS (
  SELECT c.*
  FROM alert_calls AS c JOIN settings AS s USING (domain)
  WHERE c.high_cost
    AND NOT (list_contains(s.business_days, c.local_dow) AND c.local_hhmm >= s.business_start AND c.local_hhmm < s.business_end)
),
hourly AS (
  SELECT domain, date_trunc('hour', start_time) AS hour_start, count(*) AS calls, sum(charge) AS amount,
         bool_or(estimated) AS estimated, any_value(currency) AS currency, any_value(time_zone) AS time_zone,
         min(start_local) AS first_local, list(DISTINCT extension ORDER BY extension) AS extensions,
         list(DISTINCT country_code ORDER BY country_code) AS countries, list(id ORDER BY start_time, id)[1:5] AS sample_calls
  FROM out_of_hours
  GROUP BY domain, date_trunc('hour', start_time)
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
  printf('%d international/premium calls (%s %s) outside business hours from %s local time (%s), extensions %s%s',
    h.calls, CAST(CAST(h.amount AS DECIMAL(18, 2)) AS VARCHAR), h.currency, strftime(h.first_local, '%a %H:%M'), h.time_zone,
    array_to_string(h.extensions, ', '),
    CASE WHEN h.estimated THEN ' (charge estimated in part from fallback rates)' ELSE '' END) AS message,
  {'sample_calls': h.sample_calls, 'countries': h.countries, 'extensions': h.extensions, 'min_calls': s.min_calls,
   'min_amount': s.min_amount, 'business_hours': s.business_start || '-' || s.business_end} AS evidence
FROM hourly AS h
JOIN settings AS s USING (domain)
WHERE h.calls >= s.min_calls OR h.amount >= s.min_amount
