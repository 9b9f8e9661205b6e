-- wangiri: a burst of short, unanswered inbound calls from many international numbers of one
-- country code (one-ring callbacks bait): at least min_callers different numbers within
-- window_minutes, each ringing at most max_ring_seconds.
-- Window: the window_minutes bucket (UTC, from the hour). Key: the country calling code.
-- Settings (alerts.rules.wangiri): window_minutes, min_callers, max_ring_seconds, severity.
WITH rings AS (
  SELECT c.domain, c.id, c.start_time, c.caller_e164, c.country_code, c.currency, s.window_minutes,
         time_bucket(to_minutes(s.window_minutes), c.start_time, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start
  FROM alert_calls AS c JOIN settings AS s USING (domain)
  WHERE c.direction IN ('inbound', 'missed') AND NOT c.answered
    AND c.call_class IN ('international', 'premium') AND c.country_code IS NOT NULL
    AND c.duration_s <= s.max_ring_seconds
)
SELECT
  r.domain,
  r.country_code AS key,
  r.bucket_start AS window_start,
  r.bucket_start + to_minutes(any_value(r.window_minutes)) AS window_end,
  any_value(s.severity) AS severity,
  count(*) AS calls,
  NULL::DECIMAL(18, 2) AS amount,
  false AS estimated,
  printf('%d short missed calls from %d different +%s numbers within %d minutes from %s UTC: likely wangiri, do not call back',
    count(*), count(DISTINCT r.caller_e164), r.country_code, any_value(r.window_minutes), strftime(r.bucket_start, '%Y-%m-%d %H:%M')) AS message,
  {'callers': count(DISTINCT r.caller_e164), 'min_callers': any_value(s.min_callers),
   'sample_numbers': list(DISTINCT r.caller_e164 ORDER BY r.caller_e164)[1:5], 'sample_calls': list(r.id ORDER BY r.start_time, r.id)[1:5]} AS evidence
FROM rings AS r
JOIN settings AS s USING (domain)
GROUP BY r.domain, r.country_code, r.bucket_start
HAVING count(DISTINCT r.caller_e164) >= any_value(s.min_callers)
