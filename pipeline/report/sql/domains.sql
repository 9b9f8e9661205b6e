-- Every domain the warehouse knows, with the time zone its months are cut in.
SELECT domain, description, time_zone
FROM domains
ORDER BY domain;
