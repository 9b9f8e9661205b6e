-- concurrency: simultaneous international or premium outbound calls of one domain above
-- max_per_domain (key ''), or of one extension above max_per_extension (key: the extension).
-- A call counts as in progress from its start to its end; calls started more than 4 hours
-- before another are not counted against it (single-call watches such long calls).
-- Window: the UTC hour in which the peak call started.
-- Settings (alerts.rules.concurrency): max_per_domain, max_per_extension, severity.
WITH intl AS (
  SELECT domain, id, extension, start_time, coalesce(end_time, start_time + to_seconds(duration_s)) AS end_time, charge, estimated, currency
  FROM alert_calls
  WHERE high_cost
),
at_start AS (
  -- For each call: how many calls (itself included) were in progress when it started.
  SELECT c.domain, c.id, c.extension, c.start_time, c.charge, c.estimated, c.currency,
         count(*) AS domain_active,
         count(*) FILTER (WHERE o.extension IS NOT DISTINCT FROM c.extension) AS extension_active
  FROM intl AS c
  JOIN intl AS o
    ON o.domain = c.domain
   AND o.start_time <= c.start_time
   AND o.start_time >= c.start_time - INTERVAL 4 HOUR
   AND o.end_time > c.start_time
  GROUP BY ALL
),
scoped AS (
  SELECT a.*, '' AS key, a.domain_active AS active, s.max_per_domain AS lim, s.severity FROM at_start AS a JOIN settings AS s USING (domain)
  WHERE a.domain_active > s.max_per_domain
  UNION ALL
  SELECT a.*, a.extension AS key, a.extension_active AS active, s.max_per_extension AS lim, s.severity FROM at_start AS a JOIN settings AS s USING (domain)
  WHERE a.extension_active > s.max_per_extension AND a.extension IS NOT NULL AND a.extension <> ''
)
SELECT
  domain,
  key,
  date_trunc('hour', start_time) AS window_start,
  date_trunc('hour', start_time) + INTERVAL 1 HOUR AS window_end,
  any_value(severity) AS severity,
  max(active) AS calls,
  sum(charge) AS amount,
  bool_or(estimated) AS estimated,
  printf('Up to %d international/premium calls at once %s (limit %d), peak at %s UTC%s',
    max(active), CASE WHEN key = '' THEN 'in the domain' ELSE 'from extension ' || key END, any_value(lim),
    strftime(arg_max(start_time, active), '%Y-%m-%d %H:%M'),
    CASE WHEN bool_or(estimated) THEN ' (charge estimated in part from fallback rates)' ELSE '' END) AS message,
  {'peak': max(active), 'limit': any_value(lim), 'calls_over_limit': count(*), 'sample_calls': list(id ORDER BY start_time, id)[1:5]} AS evidence
FROM scoped
GROUP BY domain, key, date_trunc('hour', start_time)
