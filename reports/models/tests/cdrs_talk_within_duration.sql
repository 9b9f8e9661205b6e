-- incremental: domain_month
-- 0 <= talk_s <= duration_s.
SELECT domain, id, talk_s, duration_s
FROM cdrs
WHERE talk_s IS NULL OR duration_s IS NULL OR talk_s < 0 OR talk_s > duration_s
