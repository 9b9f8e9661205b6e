-- depends_on: carrier_calls, calls
-- row_order: any
-- carrier_matches: each carrier record, and each PBX call the carrier should have billed, with
-- one status. Expected PBX calls: outbound, talked (talk_s > 0), dialled number a valid E.164
-- number, whatever else the PBX says about them (noise, self-calls and unpriced calls included).
--
-- Matching, per carrier: same E.164 destination, carrier start within ±time_tolerance_s of the
-- PBX answer time, nearest first, each side used at most once. Candidate pairs come from an
-- equality join on (carrier, destination, time bucket) over narrow key columns: a bucket is at
-- least four tolerances wide, so a PBX call's window [answer - tol, answer + tol] spans one
-- bucket or two (two equality joins, the second only for windows across a bucket edge) and the
-- join never degenerates into destination x destination on a busy number. A pair alone on both
-- sides (nearly all of them) is accepted as is. The contested rest is resolved by the greedy
-- "nearest pair first" rule, computed in rounds: a pair that is the best remaining pair of both
-- its carrier record and its PBX call is accepted (the greedy rule would accept it too), pairs
-- touching an accepted side are dropped, and the rest go to the next round. Ties are broken by
-- content (start, call id, seconds, cost, then file line; PBX start, domain, id), ranked among
-- the contested pairs only, so the order of lines in a file never changes the outcome and the
-- whole file is never sorted. Matching carries both sides as integers: a record as its rowid in
-- carrier_calls (rid), a call as its rowid in calls (crow) and, per carrier, a number made from
-- both (pid), so both inputs are tables. The rows are assembled without an outer join and never
-- stored in between: the scan of carrier_calls, left-joined to its pair and the pair's call, then
-- the expected calls no record matched. (A full join there ended the plan in a single-threaded
-- pass over every row.)
--
-- Status, in this order: carrier_only (no PBX call: a phantom), pbx_only (expected, in a UTC month
-- the carrier has records for, and not on its file), duration_dispute (carrier seconds exceed our
-- talk time billed at the carrier's increments by more than duration_tolerance_s),
-- cost_dispute (with a buy deck: cost differs from the deck applied to the carrier's seconds by
-- more than cost_tolerance, or the destination is not on the deck), matched.
-- expected_cost is what we accept to pay: the carrier's cost when matched, the deck price of our
-- seconds (or the carrier's cost pro rata to our seconds without a deck) on a duration dispute,
-- the deck price of the carrier's seconds on a cost dispute, nothing for a phantom.
-- disputed_amount = carrier_cost - expected_cost on a carrier record, 0 on pbx_only rows.
WITH RECURSIVE terms AS (
  -- The terms of every carrier, with the UTC months it has records for.
  SELECT
    t.*,
    CAST(round(t.time_tolerance_s * 1000) AS BIGINT) AS tol_ms,
    greatest(60000, 4 * CAST(round(t.time_tolerance_s * 1000) AS BIGINT)) AS bucket_ms,
    m.months,
    -- A carrier with records is numbered 0..ncar-1: pid = call rowid * ncar + cidx.
    CASE WHEN m.months IS NOT NULL THEN row_number() OVER (PARTITION BY m.months IS NULL ORDER BY t.carrier) - 1 END AS cidx,
    count(m.months) OVER () AS ncar
  FROM carrier_terms AS t
  LEFT JOIN (SELECT carrier, list(DISTINCT month) AS months FROM carrier_calls GROUP BY carrier) AS m ON m.carrier = t.carrier
),
calls_answered AS (
  -- The expected PBX calls, each once. The UTC month comes from the instant's epoch (no time
  -- zone lookup per call); an infinite stamp keeps the zone-aware spelling.
  SELECT
    crow,
    domain,
    id,
    start_time,
    answer_time,
    epoch_ms(answer_time) AS answer_ms,
    CASE WHEN isfinite(answer_time) THEN strftime(make_timestamp(epoch_us(answer_time)), '%Y-%m')
         ELSE strftime(answer_time AT TIME ZONE 'UTC', '%Y-%m') END AS month,
    caller_number,
    dialed_number,
    dialed_e164,
    talk_s
  FROM (SELECT rowid AS crow, * REPLACE (coalesce(answer_time, start_time) AS answer_time) FROM calls)
  WHERE direction = 'outbound' AND talk_s > 0 AND dialed_e164 IS NOT NULL
),
expected AS NOT MATERIALIZED (
  -- Each expected PBX call once per carrier with records, with the first and last time bucket
  -- its tolerance window touches. pid numbers these rows (from the call's rowid, so no window
  -- over every call): matching carries one integer per call instead of (carrier, domain, id).
  SELECT
    c.crow * t.ncar + t.cidx AS pid,
    t.carrier,
    c.*,
    (c.answer_ms - t.tol_ms) // t.bucket_ms AS first_bucket,
    (c.answer_ms + t.tol_ms) // t.bucket_ms AS last_bucket,
    list_contains(t.months, c.month) AS in_carrier_month
  FROM calls_answered AS c
  CROSS JOIN terms AS t
  WHERE t.months IS NOT NULL
),
expected_keys AS MATERIALIZED (
  -- What the candidate joins need of an expected call, stored narrow; the wide rows are read
  -- again from calls where they are needed instead of being stored.
  SELECT pid, crow, carrier, dialed_e164, answer_ms, first_bucket, last_bucket FROM expected
),
record_keys AS NOT MATERIALIZED (
  -- Only what matching needs of a record: narrow rows join and hash fast. Read twice (once per
  -- candidate join) rather than stored: the scan costs less than storing it.
  SELECT r.carrier, r.rowid AS rid, r.to_e164, epoch_ms(r.start_time) AS start_ms, epoch_ms(r.start_time) // t.bucket_ms AS bucket, t.tol_ms
  FROM carrier_calls AS r
  JOIN terms AS t ON t.carrier = r.carrier
  WHERE r.to_e164 IS NOT NULL AND r.record_key IS NOT NULL
),
candidates AS (
  -- Two equality joins, one per bucket of the window, rather than one join on a list of buckets.
  SELECT r.rid, p.pid, p.crow, abs(r.start_ms - p.answer_ms) AS distance_ms
  FROM record_keys AS r
  JOIN expected_keys AS p ON p.carrier = r.carrier AND p.dialed_e164 = r.to_e164 AND p.first_bucket = r.bucket
  WHERE abs(r.start_ms - p.answer_ms) <= r.tol_ms
  UNION ALL
  SELECT r.rid, p.pid, p.crow, abs(r.start_ms - p.answer_ms) AS distance_ms
  FROM record_keys AS r
  JOIN expected_keys AS p ON p.carrier = r.carrier AND p.dialed_e164 = r.to_e164 AND p.last_bucket = r.bucket
  WHERE p.last_bucket <> p.first_bucket AND abs(r.start_ms - p.answer_ms) <= r.tol_ms
),
shared_records AS (
  SELECT rid FROM candidates GROUP BY rid HAVING count(*) > 1
),
shared_calls AS (
  SELECT pid FROM candidates GROUP BY pid HAVING count(*) > 1
),
contested AS (
  -- Pairs sharing a side with another pair; every other pair is alone on both sides and accepted.
  SELECT c.* FROM candidates AS c SEMI JOIN shared_records AS s ON s.rid = c.rid
  UNION
  SELECT c.* FROM candidates AS c SEMI JOIN shared_calls AS s ON s.pid = c.pid
),
ranked AS (
  -- ord: distance first, then the record's and the call's content order, as one number. Ranks
  -- taken among the contested pairs alone order them as ranks over every record and call would.
  -- Both sides are fetched by rowid (plain columns): the planner then sizes this join, and the
  -- windows of the rounds below, by the contested pairs, not by a product of the inputs.
  SELECT
    c.rid,
    c.pid,
    CAST(c.distance_ms AS HUGEINT) * CAST(18446744073709551616 AS HUGEINT)
      + CAST(dense_rank() OVER (ORDER BY r.carrier, r.start_time, r.call_id, r.billed_seconds, r.cost, r.record_key) AS HUGEINT)
        * CAST(4294967296 AS HUGEINT)
      + CAST(dense_rank() OVER (ORDER BY p.start_time, p.domain, p.id) AS HUGEINT) AS ord
  FROM contested AS c
  JOIN carrier_calls AS r ON r.rowid = c.rid
  JOIN calls AS p ON p.rowid = c.crow
),
rounds(rid, pid, ord, state) AS (
  SELECT rid, pid, ord, 'open' FROM ranked
  UNION ALL
  SELECT rid, pid, ord, CASE WHEN best THEN 'accepted' ELSE 'open' END
  FROM (
    SELECT
      *,
      bool_or(best) OVER (PARTITION BY rid) AS record_taken,
      bool_or(best) OVER (PARTITION BY pid) AS call_taken
    FROM (
      SELECT
        rid, pid, ord,
        min(ord) OVER (PARTITION BY rid) = ord AND min(ord) OVER (PARTITION BY pid) = ord AS best
      FROM rounds
      WHERE state = 'open'
    )
  )
  WHERE best OR NOT (record_taken OR call_taken)
),
pairs AS (
  -- The contested pairs accepted are taken as a subset of contested, which keeps the planner's
  -- size estimate of pairs small (a recursive CTE's is huge) so it joins pairs as the small side.
  SELECT c.rid, c.pid
  FROM candidates AS c
  ANTI JOIN shared_records AS s ON s.rid = c.rid
  ANTI JOIN shared_calls AS x ON x.pid = c.pid
  UNION ALL
  SELECT c.rid, c.pid FROM contested AS c SEMI JOIN rounds AS a ON a.rid = c.rid AND a.pid = c.pid AND a.state = 'accepted'
),
joined AS (
  -- Every carrier record, with its PBX call when it has one, then every expected PBX call of a
  -- month the carrier has records for that no record matched.
  SELECT
    r.carrier,
    coalesce(r.month, p.month) AS month,
    true AS has_record,
    p.pid IS NOT NULL AS has_call,
    r.record_key,
    r.file_name,
    r.line_number,
    r.call_id,
    r.start_time AS carrier_start,
    r.from_number,
    r.to_number,
    coalesce(r.to_e164, p.dialed_e164) AS to_e164,
    r.billed_seconds AS carrier_seconds,
    r.cost AS carrier_cost,
    coalesce(r.currency, t.currency) AS currency,
    p.domain,
    p.id AS pbx_id,
    p.answer_time AS pbx_answer_time,
    p.caller_number AS pbx_from,
    p.dialed_number AS pbx_to,
    p.talk_s,
    CASE WHEN p.pid IS NOT NULL
         THEN billable_seconds(p.talk_s, t.initial_increment, t.subsequent_increment, 0) END AS our_seconds,
    CASE WHEN p.pid IS NOT NULL THEN CAST((epoch_ms(r.start_time) - p.answer_ms) / 1000.0 AS DOUBLE) END AS offset_s,
    r.start_time AS rated_at,
    t.has_deck,
    t.time_tolerance_s,
    t.duration_tolerance_s,
    t.cost_tolerance
  FROM carrier_calls AS r
  LEFT JOIN pairs AS pr ON pr.rid = r.rowid
  LEFT JOIN expected AS p ON p.pid = pr.pid
  JOIN terms AS t ON t.carrier = r.carrier
  WHERE r.record_key IS NOT NULL
  UNION ALL BY NAME
  SELECT
    p.carrier,
    p.month,
    false AS has_record,
    true AS has_call,
    p.dialed_e164 AS to_e164,
    t.currency,
    p.domain,
    p.id AS pbx_id,
    p.answer_time AS pbx_answer_time,
    p.caller_number AS pbx_from,
    p.dialed_number AS pbx_to,
    p.talk_s,
    billable_seconds(p.talk_s, t.initial_increment, t.subsequent_increment, 0) AS our_seconds,
    p.answer_time AS rated_at,
    t.has_deck,
    t.time_tolerance_s,
    t.duration_tolerance_s,
    t.cost_tolerance
  FROM expected AS p
  ANTI JOIN pairs AS pr ON pr.pid = p.pid
  JOIN terms AS t ON t.carrier = p.carrier
  WHERE p.in_carrier_month
),
rate_keys AS (
  -- The deck is looked up once per destination and day, not once per row. The keys come from
  -- the narrow inputs (every record, every expected call of a carrier with a deck: a superset of
  -- what the rows ask for), so the wide rows of joined stream through once and are never stored.
  SELECT DISTINCT r.carrier, r.to_e164, CAST(r.start_time AS DATE) AS rated_date
  FROM carrier_calls AS r
  JOIN terms AS t ON t.carrier = r.carrier
  WHERE t.has_deck AND r.to_e164 IS NOT NULL
  UNION
  SELECT p.carrier, p.dialed_e164, CAST(p.answer_time AS DATE)
  FROM expected AS p
  JOIN terms AS t ON t.carrier = p.carrier
  WHERE t.has_deck
),
key_prefixes AS (
  SELECT carrier, to_e164, rated_date, substr(to_e164, 1, len) AS candidate
  FROM (SELECT *, unnest(generate_series(2, length(to_e164))) AS len FROM rate_keys)
),
deck AS (
  -- The buy rate: longest prefix, latest version in force on the UTC date.
  SELECT k.carrier, k.to_e164, k.rated_date, d.prefix, d.per_minute, d.initial_increment, d.subsequent_increment, d.minimum_seconds, d.connect_fee
  FROM key_prefixes AS k
  JOIN carrier_rates AS d ON d.carrier = k.carrier AND d.prefix = k.candidate AND d.effective_from <= k.rated_date
  QUALIFY row_number() OVER (PARTITION BY k.carrier, k.to_e164, k.rated_date ORDER BY length(d.prefix) DESC, d.effective_from DESC) = 1
),
priced AS (
  SELECT
    j.*,
    d.prefix AS deck_prefix,
    CASE
      WHEN d.prefix IS NULL THEN NULL
      WHEN j.has_record THEN line_charge(
        billable_seconds(j.carrier_seconds, d.initial_increment, d.subsequent_increment, d.minimum_seconds), d.per_minute, d.connect_fee, 6)
      ELSE line_charge(billable_seconds(j.our_seconds, d.initial_increment, d.subsequent_increment, d.minimum_seconds), d.per_minute, d.connect_fee, 6)
    END AS deck_cost,
    CASE WHEN d.prefix IS NULL OR j.our_seconds IS NULL THEN NULL
         ELSE line_charge(billable_seconds(j.our_seconds, d.initial_increment, d.subsequent_increment, d.minimum_seconds), d.per_minute, d.connect_fee, 6)
    END AS deck_cost_ours
  FROM joined AS j
  LEFT JOIN deck AS d ON d.carrier = j.carrier AND d.to_e164 = j.to_e164 AND d.rated_date = CAST(j.rated_at AS DATE)
),
judged AS (
  SELECT
    *,
    CASE
      WHEN NOT has_call THEN 'carrier_only'
      WHEN NOT has_record THEN 'pbx_only'
      WHEN carrier_seconds - our_seconds > duration_tolerance_s THEN 'duration_dispute'
      WHEN has_deck AND (deck_cost IS NULL OR abs(carrier_cost - deck_cost) > cost_tolerance) THEN 'cost_dispute'
      ELSE 'matched'
    END AS status
  FROM priced
),
costed AS (
  SELECT
    *,
    CASE status
      WHEN 'matched' THEN carrier_cost
      WHEN 'carrier_only' THEN CAST(0 AS DECIMAL(18, 6))
      WHEN 'cost_dispute' THEN coalesce(deck_cost, CAST(0 AS DECIMAL(18, 6)))
      WHEN 'duration_dispute' THEN coalesce(
        deck_cost_ours,
        -- No deck rate: the carrier's own price, pro rata to our seconds (half-up in micro-units).
        from_micros((2 * to_micros(carrier_cost) * our_seconds + carrier_seconds) // (2 * carrier_seconds)))
    END AS expected_cost
  FROM judged
)
SELECT
  carrier,
  month,
  status,
  record_key,
  file_name,
  line_number,
  call_id,
  carrier_start,
  from_number,
  to_number,
  to_e164,
  carrier_seconds,
  carrier_cost,
  currency,
  domain,
  pbx_id,
  pbx_answer_time,
  pbx_from,
  pbx_to,
  talk_s,
  our_seconds,
  offset_s,
  deck_prefix,
  deck_cost,
  expected_cost,
  CASE WHEN status IN ('matched', 'pbx_only') THEN CAST(0 AS DECIMAL(18, 6))
       ELSE CAST(carrier_cost - expected_cost AS DECIMAL(18, 6)) END AS disputed_amount,
  CASE status
    WHEN 'carrier_only' THEN 'no call of ours to ' || coalesce(to_e164, to_number, 'this number') || ' within ±'
      || regexp_replace(CAST(time_tolerance_s AS VARCHAR), '\.0+$', '') || ' s'
    WHEN 'pbx_only' THEN 'not on the carrier file'
    WHEN 'duration_dispute' THEN 'billed ' || CAST(carrier_seconds AS VARCHAR) || ' s for ' || CAST(talk_s AS VARCHAR)
      || ' s talked (' || CAST(our_seconds AS VARCHAR) || ' s at the carrier''s increments)'
    WHEN 'cost_dispute' THEN CASE WHEN deck_cost IS NULL THEN 'destination not on the price list'
      ELSE 'cost ' || CAST(carrier_cost AS VARCHAR) || ', price list ' || CAST(deck_cost AS VARCHAR) END
  END AS reason
FROM costed
