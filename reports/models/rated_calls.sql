-- depends_on: calls, rating_plans
-- incremental: domain_month
-- rated_calls: every call leg of `calls` with its price under the plan in force for its local
-- month (rating_plans) and the deck rate in force on its local date.
--   rate_rule   deck (outbound, longest-prefix match on rating_key), inbound, toll-free-inbound
--               (the plan's flat rules; toll-free-inbound when the DID called is toll-free),
--               internal (free), none (not billable: noise, self-call)
--   billable_s  trade increments on talk seconds (0 when unanswered or unrated)
--   included_s  seconds covered by the monthly included pool: outbound domestic calls draw on it
--               in call order (start_time, id); the call that exhausts it pays only the excess
--   charge      line_charge(charged_s, per_minute, connect_fee, decimals): half-up per call line
WITH base AS (
  SELECT
    c.*,
    p.plan_id,
    p.plan_version,
    p.currency,
    p.decimals,
    p.included_s_total,
    CASE
      WHEN NOT c.billable THEN 'none'
      WHEN c.direction = 'internal' THEN 'internal'
      WHEN c.direction = 'outbound' THEN 'deck'
      -- The toll-free rule follows the DID called, whatever number the caller presents.
      WHEN c.direction IN ('inbound', 'missed') AND number_class(c.did) = 'toll-free' THEN 'toll-free-inbound'
      WHEN c.direction IN ('inbound', 'missed') THEN 'inbound'
      ELSE 'none'
    END AS rate_rule
  FROM calls AS c
  LEFT JOIN rating_plans AS p ON p.domain = c.domain AND p.local_month = c.local_month
),
key_prefixes AS (
  -- Every leading part of the key: an equality join finds all deck prefixes that match.
  SELECT domain, id, plan_id, plan_version, local_date, rating_key, substr(rating_key, 1, len) AS candidate
  FROM (
    SELECT *, unnest(generate_series(1, length(rating_key))) AS len
    FROM base
    WHERE rate_rule = 'deck' AND rating_key IS NOT NULL
  )
),
deck_match AS (
  SELECT k.domain, k.id, r.prefix, r.description, r.per_minute, r.initial_increment,
         r.subsequent_increment, r.minimum_seconds, r.connect_fee
  FROM key_prefixes AS k
  JOIN rates AS r
    ON r.plan_id = k.plan_id
   AND r.plan_version = k.plan_version
   AND r.prefix = k.candidate
   AND r.effective_from <= k.local_date
   -- Short codes (911) match only in full; E.164 prefixes carry their '+'.
   AND (starts_with(r.prefix, '+') OR r.prefix = k.rating_key)
  -- Longest prefix wins; among its versions, the latest one in force on the call's date.
  QUALIFY row_number() OVER (PARTITION BY k.domain, k.id ORDER BY length(r.prefix) DESC, r.effective_from DESC) = 1
),
priced AS (
  SELECT
    b.*,
    m.prefix AS rate_prefix,
    CASE WHEN b.rate_rule = 'deck' THEN m.description ELSE pr.description END AS rate_description,
    CASE WHEN b.rate_rule = 'deck' THEN m.per_minute
         WHEN b.rate_rule = 'internal' THEN CAST(0 AS DECIMAL(18, 6))
         ELSE pr.per_minute END AS per_minute,
    CASE WHEN b.rate_rule = 'deck' THEN m.connect_fee ELSE pr.connect_fee END AS connect_fee,
    CASE WHEN b.rate_rule = 'deck' THEN m.initial_increment ELSE pr.initial_increment END AS initial_increment,
    CASE WHEN b.rate_rule = 'deck' THEN m.subsequent_increment ELSE pr.subsequent_increment END AS subsequent_increment,
    CASE WHEN b.rate_rule = 'deck' THEN m.minimum_seconds ELSE pr.minimum_seconds END AS minimum_seconds
  FROM base AS b
  LEFT JOIN deck_match AS m ON m.domain = b.domain AND m.id = b.id
  LEFT JOIN plan_rules AS pr
    ON pr.plan_id = b.plan_id AND pr.plan_version = b.plan_version AND pr.rule = b.rate_rule
),
billed AS (
  SELECT
    *,
    CASE
      WHEN rate_rule IN ('none', 'internal') OR per_minute IS NULL OR NOT answered THEN 0
      ELSE billable_seconds(talk_s, initial_increment, subsequent_increment, minimum_seconds)
    END AS billable_s
  FROM priced
),
pooled AS (
  SELECT
    *,
    (rate_rule = 'deck' AND call_class = 'domestic' AND billable_s > 0) AS draws_on_pool,
    coalesce(sum(CASE WHEN rate_rule = 'deck' AND call_class = 'domestic' THEN billable_s ELSE 0 END) OVER (
      PARTITION BY domain, local_month ORDER BY start_time, id
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS pool_used_before
  FROM billed
),
rated AS (
  SELECT
    *,
    CASE WHEN draws_on_pool
         THEN CAST(least(billable_s, greatest(coalesce(included_s_total, 0) - pool_used_before, 0)) AS INTEGER)
         ELSE 0 END AS included_s
  FROM pooled
)
SELECT
  * EXCLUDE (pool_used_before, included_s_total, decimals),
  billable_s - included_s AS charged_s,
  CASE WHEN billable_s = 0 THEN CAST(0 AS DECIMAL(18, 6))
       ELSE line_charge(billable_s - included_s, per_minute, connect_fee, decimals) END AS charge
FROM rated
