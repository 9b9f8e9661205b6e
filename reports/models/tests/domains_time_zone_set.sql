-- Every domain has an effective time zone.
SELECT domain, time_zone, time_zone_source FROM domains WHERE time_zone IS NULL OR time_zone = ''
