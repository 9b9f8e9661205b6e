-- Money arithmetic without binary floating point. DuckDB divides DECIMALs into DOUBLE, so charges
-- are computed in integer micro-units (1e-6 of the currency) and turned back into DECIMAL(18,6)
-- by multiplication only.

-- DECIMAL(18,6) -> integer micro-units.
CREATE OR REPLACE MACRO to_micros(x) AS CAST(CAST(x AS DECIMAL(18, 6)) * 1000000 AS HUGEINT);

-- Integer micro-units -> DECIMAL(18,6).
CREATE OR REPLACE MACRO from_micros(m) AS
  CAST(CAST(m AS DECIMAL(38, 0)) * CAST(0.000001 AS DECIMAL(18, 6)) AS DECIMAL(18, 6));

-- Micro-units in one unit of the last kept decimal: decimals 2 -> 10000.
CREATE OR REPLACE MACRO micros_per_step(decimals) AS
  CAST([1000000, 100000, 10000, 1000, 100, 10, 1][decimals + 1] AS HUGEINT);

-- Billable seconds under the trade's increments: 0 when nothing was talked; otherwise
-- max(talk, minimum), the first `initial` seconds, then each started `subsequent` seconds.
CREATE OR REPLACE MACRO billable_seconds(talk_s, initial_s, subsequent_s, minimum_s) AS CASE
  WHEN coalesce(talk_s, 0) <= 0 THEN 0
  WHEN greatest(talk_s, minimum_s) <= initial_s THEN initial_s
  ELSE initial_s + ((greatest(talk_s, minimum_s) - initial_s + subsequent_s - 1) // subsequent_s) * subsequent_s
END;

-- One call line: charged seconds at the per-minute price plus the connect fee, rounded half-up
-- to `decimals` places. Exact value in 1/60 micro-units, then floor((2n + u) / 2u) with u = one
-- rounding step in those units (all operands are non-negative).
CREATE OR REPLACE MACRO line_charge(charged_s, per_minute, connect_fee, decimals) AS from_micros(
  ((2 * (CAST(charged_s AS HUGEINT) * to_micros(per_minute) + to_micros(connect_fee) * 60)
    + micros_per_step(decimals) * 60)
   // (2 * micros_per_step(decimals) * 60))
  * micros_per_step(decimals));
