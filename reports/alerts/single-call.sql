-- single-call: one international or premium outbound call charged above max_amount or talking
-- longer than max_minutes. Window: the UTC hour of the call's start. Key: the extension.
-- Settings (alerts.rules.single-call): max_amount, max_minutes, severity.
WITH big AS (
  SELECT c.*, s.severity, s.max_amount, s.max_minutes
  FROM alert_calls AS c JOIN settings AS s USING (domain)
  WHERE c.high_cost
    AND (c.charge > s.max_amount OR c.talk_s > s.max_minutes * 60)
)
SELECT
  domain,
  coalesce(extension, '') AS key,
  date_trunc('hour', start_time) AS window_start,
  date_trunc('hour', start_time) + INTERVAL 1 HOUR AS window_end,
  any_value(severity) AS severity,
  count(*) AS calls,
  sum(charge) AS amount,
  bool_or(estimated) AS estimated,
  printf('%d %s call%s from extension %s above the single-call limit (%s %s or %s minutes): largest %s %s, %d min to %s%s',
    count(*), any_value(call_class), CASE WHEN count(*) > 1 THEN 's' ELSE '' END, coalesce(extension, '?'),
    CAST(CAST(any_value(max_amount) AS DECIMAL(18, 2)) AS VARCHAR), any_value(currency), CAST(any_value(max_minutes) AS VARCHAR),
    CAST(CAST(max(charge) AS DECIMAL(18, 2)) AS VARCHAR), any_value(currency), CAST(arg_max(talk_s, charge) / 60 AS INTEGER),
    arg_max(dialed_e164, charge),
    CASE WHEN bool_or(estimated) THEN ' (estimated from fallback rates)' ELSE '' END) AS message,
  {'calls': list(id ORDER BY charge DESC, id)[1:5], 'max_amount': any_value(max_amount), 'max_minutes': any_value(max_minutes),
   'longest_talk_s': max(talk_s)} AS evidence
FROM big
GROUP BY domain, coalesce(extension, ''), extension, date_trunc('hour', start_time)
