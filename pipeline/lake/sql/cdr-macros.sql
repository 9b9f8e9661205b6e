-- Typed-column helpers for CDRs as the NetSapiens v2 API sends them. Loaded into the lake
-- writer's DuckDB session (whose TimeZone is UTC); analysts can load them the same way.

-- Every datetime form the API uses: '2026-11-27 13:00:00' (bare: UTC), '...T13:00:00Z',
-- '...T13:00:00-08:00', '...-08:00[US/Pacific]' (the zone suffix adds nothing to the offset),
-- '...T13:00:00[US/Pacific]' (no offset: wall time in that zone), plus the looser spellings the
-- client accepts (lower-case t/z, ',' before fractions, a space before the offset, no seconds).
-- Unparseable (or the '0000-00-00 00:00:00' placeholder) -> NULL.
-- One regular expression splits the text into date, hours:minutes, seconds, offset and [zone];
-- the parts are put back in the one spelling DuckDB casts. The lambda over a one-element list
-- names that split once: this macro is expanded for every datetime column of every statement,
-- and the size of what it expands to is what DuckDB spends its planning time on.
CREATE OR REPLACE TEMP MACRO cdr_ts_slow(s) AS list_transform(
  [regexp_extract(trim(s), '^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2}(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?\s*(?:\[([^\]]+)\])?$', ['d', 'hm', 'sec', 'off', 'zone'], 'i')],
  p -> CASE
    WHEN p.d = '' THEN NULL
    WHEN p.off <> '' OR p.zone = '' THEN try_cast(p.d || ' ' || p.hm || if(p.sec = '', ':00', replace(p.sec, ',', '.')) || upper(p.off) AS TIMESTAMPTZ)
    ELSE try(timezone(p.zone, try_cast(p.d || ' ' || p.hm || if(p.sec = '', ':00', replace(p.sec, ',', '.')) AS TIMESTAMP)))
  END)[1];
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

-- A CDR's id as the lake stores it and as duplicates are found: surrounding white space removed
-- (tab, line feed, vertical tab, form feed, carriage return, U+FEFF and every Unicode space or
-- separator: what JavaScript's trim() removes, so the ingest's duplicate check in
-- source/cdr-id.ts agrees), '' or only white space -> NULL (no id: the row is dropped). The
-- regexp_matches guard keeps the common unpadded id from paying for the replacement.
CREATE OR REPLACE TEMP MACRO cdr_id(s) AS CASE
  WHEN s = '' THEN NULL
  WHEN regexp_matches(s, '^[\t\n\x{0B}\f\r\x{FEFF}\p{Z}]|[\t\n\x{0B}\f\r\x{FEFF}\p{Z}]$')
    THEN nullif(regexp_replace(s, '^[\t\n\x{0B}\f\r\x{FEFF}\p{Z}]+|[\t\n\x{0B}\f\r\x{FEFF}\p{Z}]+$', '', 'g'), '')
  ELSE s
END;
