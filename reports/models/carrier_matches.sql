-- depends_on: carrier_calls, calls
-- carrier_matches: each carrier record, and each PBX call the carrier should have billed, with
-- one status. Expected PBX calls: outbound, talked (talk_s > 0), dialled number a valid E.164
-- number, whatever else the PBX says about them (noise, self-calls and unpriced calls included).
--
-- Matching, per carrier: same E.164 destination, carrier start within ±time_tolerance_s of the
-- PBX answer time, nearest first, each side used at most once. Candidate pairs come from an
-- equality join on (carrier, destination, time bucket): a bucket is at least four tolerances
-- wide, so a PBX call's window [answer - tol, answer + tol] spans one bucket or two and the join
-- never degenerates into destination x destination on a busy number. The one-to-one resolution
-- is the greedy "nearest pair first" rule, computed in rounds: a pair that is the best remaining
-- pair of both its carrier record and its PBX call is accepted (the greedy rule would accept it
-- too), pairs touching an accepted side are dropped, and the rest go to the next round. Nearly
-- every pair settles in the first round, and a pair alone on both sides skips the rounds. Ties
-- are broken by content (start, call id, seconds, cost, then file line; PBX start, domain, id),
-- so the order of lines in a file never changes the outcome.
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
WITH RECURSIVE expected AS (
  SELECT
    domain,
    id,
    start_time,
    coalesce(answer_time, start_time) AS answer_time,
    strftime(coalesce(answer_time, start_time) AT TIME ZONE 'UTC', '%Y-%m') AS month,
    caller_number,
    dialed_number,
    dialed_e164,
    talk_s
  FROM calls
  WHERE direction = 'outbound' AND talk_s > 0 AND dialed_e164 IS NOT NULL
),
terms AS (
  SELECT
    *,
    CAST(round(time_tolerance_s * 1000) AS BIGINT) AS tol_ms,
    greatest(60000, 4 * CAST(round(time_tolerance_s * 1000) AS BIGINT)) AS bucket_ms
  FROM carrier_terms
),
records AS (
  SELECT
    r.*,
    epoch_ms(r.start_time) AS start_ms,
    -- Numbered in content order: the number breaks ties, and the file's line order never does.
    row_number() OVER (ORDER BY r.carrier, r.start_time, r.call_id, r.billed_seconds, r.cost, r.record_key) AS rid
  FROM carrier_calls AS r
),
pbx AS (
  SELECT e.*, epoch_ms(e.answer_time) AS answer_ms, row_number() OVER (ORDER BY e.start_time, e.domain, e.id) AS pid
  FROM expected AS e
),
record_buckets AS (
  SELECT r.rid, r.carrier, r.to_e164, r.start_ms, r.start_time, r.call_id, r.billed_seconds, r.cost, r.record_key,
         r.start_ms // t.bucket_ms AS bucket, t.tol_ms
  FROM records AS r
  JOIN terms AS t ON t.carrier = r.carrier
  WHERE r.to_e164 IS NOT NULL
),
pbx_buckets AS (
  -- Each PBX call once per carrier with records, in every bucket its tolerance window touches.
  SELECT p.pid, p.dialed_e164, p.answer_ms, p.start_time, p.domain, p.id, t.carrier, unnest(list_distinct([
    (p.answer_ms - t.tol_ms) // t.bucket_ms, (p.answer_ms + t.tol_ms) // t.bucket_ms])) AS bucket
  FROM pbx AS p
  CROSS JOIN terms AS t
  WHERE t.carrier IN (SELECT DISTINCT carrier FROM carrier_calls)
),
candidates AS (
  -- ord: distance first, then the record's and the call's content order, as one number.
  SELECT
    r.carrier,
    r.rid,
    p.pid,
    CAST(abs(r.start_ms - p.answer_ms) AS HUGEINT) * CAST(18446744073709551616 AS HUGEINT)
      + CAST(r.rid AS HUGEINT) * CAST(4294967296 AS HUGEINT) + CAST(p.pid AS HUGEINT) AS ord
  FROM record_buckets AS r
  JOIN pbx_buckets AS p
    ON p.carrier = r.carrier AND p.dialed_e164 = r.to_e164 AND p.bucket = r.bucket
  WHERE abs(r.start_ms - p.answer_ms) <= r.tol_ms
),
degrees AS (
  SELECT *, count(*) OVER (PARTITION BY rid) AS record_degree, count(*) OVER (PARTITION BY carrier, pid) AS call_degree
  FROM candidates
),
rounds(carrier, rid, pid, ord, state) AS (
  -- A pair alone on both sides needs no rounds: only contested pairs go through them.
  SELECT carrier, rid, pid, ord, 'open' FROM degrees WHERE record_degree > 1 OR call_degree > 1
  UNION ALL
  SELECT carrier, rid, pid, ord, CASE WHEN best THEN 'accepted' ELSE 'open' END
  FROM (
    SELECT
      *,
      bool_or(best) OVER (PARTITION BY rid) AS rid_taken,
      bool_or(best) OVER (PARTITION BY carrier, pid) AS pid_taken
    FROM (
      SELECT
        carrier, rid, pid, ord,
        min(ord) OVER (PARTITION BY rid) = ord AND min(ord) OVER (PARTITION BY carrier, pid) = ord AS best
      FROM rounds
      WHERE state = 'open'
    )
  )
  WHERE best OR NOT (rid_taken OR pid_taken)
),
pairs AS (
  SELECT carrier, rid, pid FROM degrees WHERE record_degree = 1 AND call_degree = 1
  UNION ALL
  SELECT carrier, rid, pid FROM rounds WHERE state = 'accepted'
),
sides AS (
  -- Every carrier record, with its PBX call when it has one.
  SELECT r.carrier, r.month, r.rid, pr.pid, r.record_key
  FROM records AS r
  LEFT JOIN pairs AS pr ON pr.rid = r.rid
  UNION ALL
  -- Every expected PBX call of a month the carrier has records for, not matched by it.
  SELECT cm.carrier, p.month, NULL, p.pid, NULL
  FROM pbx AS p
  JOIN (SELECT DISTINCT carrier, month FROM carrier_calls) AS cm ON cm.month = p.month
  WHERE NOT EXISTS (SELECT 1 FROM pairs AS pr WHERE pr.carrier = cm.carrier AND pr.pid = p.pid)
),
joined AS (
  SELECT
    s.carrier,
    s.month,
    s.rid,
    s.pid,
    -- One key per row of a carrier: the record, or (for pbx_only) the PBX call.
    coalesce(s.rid, -s.pid) AS sid,
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
    CASE WHEN r.rid IS NOT NULL AND p.pid IS NOT NULL
         THEN CAST((r.start_ms - p.answer_ms) / 1000.0 AS DOUBLE) END AS offset_s,
    CASE WHEN r.rid IS NOT NULL THEN r.start_time ELSE p.answer_time END AS rated_at,
    t.has_deck,
    t.time_tolerance_s,
    t.duration_tolerance_s,
    t.cost_tolerance
  FROM sides AS s
  JOIN terms AS t ON t.carrier = s.carrier
  LEFT JOIN records AS r ON r.rid = s.rid
  LEFT JOIN pbx AS p ON p.pid = s.pid
),
key_prefixes AS (
  SELECT carrier, sid, to_e164, CAST(rated_at AS DATE) AS rated_date, substr(to_e164, 1, len) AS candidate
  FROM (
    SELECT *, unnest(generate_series(2, length(to_e164))) AS len
    FROM joined
    WHERE has_deck AND to_e164 IS NOT NULL
  )
),
deck AS (
  -- The buy rate: longest prefix, latest version in force on the UTC date.
  SELECT k.carrier, k.sid, d.prefix, d.per_minute, d.initial_increment, d.subsequent_increment, d.minimum_seconds, d.connect_fee
  FROM key_prefixes AS k
  JOIN carrier_rates AS d ON d.carrier = k.carrier AND d.prefix = k.candidate AND d.effective_from <= k.rated_date
  QUALIFY row_number() OVER (PARTITION BY k.carrier, k.sid ORDER BY length(d.prefix) DESC, d.effective_from DESC) = 1
),
priced AS (
  SELECT
    j.*,
    d.prefix AS deck_prefix,
    CASE
      WHEN d.prefix IS NULL THEN NULL
      WHEN j.rid IS NOT NULL THEN line_charge(
        billable_seconds(j.carrier_seconds, d.initial_increment, d.subsequent_increment, d.minimum_seconds), d.per_minute, d.connect_fee, 6)
      ELSE line_charge(billable_seconds(j.our_seconds, d.initial_increment, d.subsequent_increment, d.minimum_seconds), d.per_minute, d.connect_fee, 6)
    END AS deck_cost,
    CASE WHEN d.prefix IS NULL OR j.our_seconds IS NULL THEN NULL
         ELSE line_charge(billable_seconds(j.our_seconds, d.initial_increment, d.subsequent_increment, d.minimum_seconds), d.per_minute, d.connect_fee, 6)
    END AS deck_cost_ours
  FROM joined AS j
  LEFT JOIN deck AS d ON d.carrier = j.carrier AND d.sid = j.sid
),
judged AS (
  SELECT
    *,
    CASE
      WHEN pid IS NULL THEN 'carrier_only'
      WHEN rid IS NULL THEN 'pbx_only'
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
