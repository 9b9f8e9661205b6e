-- Typed-column helpers for CDRs as the NetSapiens v2 API sends them. Loaded into the lake
-- writer's DuckDB session (whose TimeZone is UTC); analysts can load them the same way.

-- Every datetime form the API uses: '2026-11-27 13:00:00' (bare: UTC), '...T13:00:00Z',
-- '...T13:00:00-08:00', '...-08:00[US/Pacific]' (the zone suffix adds nothing to the offset),
-- '...T13:00:00[US/Pacific]' (no offset: wall time in that zone), plus the looser spellings the
-- client accepts (lower-case t/z, ',' before fractions, a space before the offset, no seconds).
-- Unparseable (or the '0000-00-00 00:00:00' placeholder) -> NULL.
CREATE OR REPLACE TEMP MACRO cdr_ts_norm(p) AS regexp_replace(
  regexp_replace(replace(upper(trim(p)), ',', '.'), '\s+([+-]\d)', '\1'),
  '^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2})([^:\d]|$)', '\1:00\2');
CREATE OR REPLACE TEMP MACRO cdr_ts_slow(s) AS CASE
  WHEN s IS NULL OR trim(s) = '' THEN NULL
  WHEN NOT contains(s, '[') THEN try_cast(cdr_ts_norm(s) AS TIMESTAMPTZ)
  WHEN regexp_matches(cdr_ts_norm(regexp_extract(s, '^([^\[]*)', 1)), '(Z|[+-]\d{2}(:?\d{2})?)$')
    THEN try_cast(cdr_ts_norm(regexp_extract(s, '^([^\[]*)', 1)) AS TIMESTAMPTZ)
  ELSE try(timezone(regexp_extract(s, '\[([^\]]+)\]', 1), try_cast(cdr_ts_norm(regexp_extract(s, '^([^\[]*)', 1)) AS TIMESTAMP)))
END;
-- The common forms cast directly; only the rest pay for the regular expressions.
-- (NULL, as most ringing and many answer times are, skips both.)
CREATE OR REPLACE TEMP MACRO cdr_ts(s) AS CASE WHEN s IS NOT NULL THEN coalesce(try_cast(s AS TIMESTAMPTZ), cdr_ts_slow(s)) END;

-- Seconds may arrive as numbers or numeric strings ("42", " 42 ", "42.0", "4e1"): DuckDB's
-- cast takes surrounding spaces and rounds decimals and exponents to the nearest integer.
CREATE OR REPLACE TEMP MACRO cdr_int(s) AS try_cast(s AS INTEGER);

-- call-direction codes: 0 outbound, 1 inbound (answered), 2 missed (inbound, unanswered), 3 internal (on-net).
CREATE OR REPLACE TEMP MACRO cdr_direction(s) AS CASE trim(s)
  WHEN '0' THEN 'outbound' WHEN '1' THEN 'inbound' WHEN '2' THEN 'missed' WHEN '3' THEN 'internal'
  ELSE nullif(lower(trim(s)), '')
END;

-- Ids and numbers are text even when the spec types them as integers.
-- Only values that start or end with a space pay for trim() (it copies every string).
CREATE OR REPLACE TEMP MACRO cdr_text(s) AS CASE
  WHEN s = '' THEN NULL
  WHEN prefix(s, ' ') OR suffix(s, ' ') THEN nullif(trim(s), '')
  ELSE s
END;
