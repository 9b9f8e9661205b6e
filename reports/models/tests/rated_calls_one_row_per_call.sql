-- incremental: domain_month
-- rated_calls has exactly one row per call of `calls` in each (domain, local_month): no price matched
-- twice, no call lost. An id repeated across months is rated_calls_unique_domain_id's to report.
WITH rated AS (
  SELECT domain, local_month, count(*) AS n_rated, count(DISTINCT id) AS n_rated_ids FROM rated_calls GROUP BY ALL
),
legs AS (
  SELECT domain, local_month, count(*) AS n_calls FROM calls GROUP BY ALL
)
SELECT coalesce(r.domain, c.domain) AS domain, coalesce(r.local_month, c.local_month) AS local_month,
       coalesce(r.n_rated, 0) AS n_rated, coalesce(c.n_calls, 0) AS n_calls, coalesce(r.n_rated_ids, 0) AS n_rated_ids
FROM rated AS r
FULL JOIN legs AS c ON c.domain = r.domain AND c.local_month = r.local_month
WHERE coalesce(r.n_rated, 0) <> coalesce(c.n_calls, 0) OR r.n_rated_ids <> r.n_rated
