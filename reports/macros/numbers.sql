-- Number handling shared by the models (created before any model runs; also usable by analysts).

-- The digits of a number as dialled: drops sip:/tel: schemes, @host and ;params, spaces,
-- dashes, dots and brackets; keeps a leading '+'.
CREATE OR REPLACE MACRO dial_digits(n) AS
  regexp_replace(
    regexp_replace(regexp_replace(coalesce(n, ''), '^(sips?|tel):', ''), '[@;].*$', ''),
    '[^0-9+]', '', 'g');

-- E.164 from dialled digits, or NULL when the number is not a public number we can place:
--   +CC...            kept as is (7 to 15 digits after '+')
--   011 CC...         NANP international access prefix
--   NXX NXX XXXX      NANP 10 digits (area code and exchange start 2-9)
--   1 NXX NXX XXXX    NANP 11 digits
CREATE OR REPLACE MACRO e164_from_digits(d) AS CASE
  WHEN regexp_full_match(d, '\+[1-9][0-9]{6,14}') THEN d
  WHEN regexp_full_match(d, '011[1-9][0-9]{6,14}') THEN '+' || substr(d, 4)
  WHEN regexp_full_match(d, '[2-9][0-9]{2}[2-9][0-9]{6}') THEN '+1' || d
  WHEN regexp_full_match(d, '1[2-9][0-9]{2}[2-9][0-9]{6}') THEN '+' || d
  ELSE NULL
END;

CREATE OR REPLACE MACRO to_e164(n) AS e164_from_digits(dial_digits(n));

-- US emergency short codes as dialled (9911: an outside-line 9 in front of 911).
CREATE OR REPLACE MACRO is_emergency_code(n) AS dial_digits(n) IN ('911', '933', '9911');  -- calls.sql inlines this list on clean digits

-- The class of a public number (E.164). NANP numbers outside the US and Canada (the Caribbean,
-- Bermuda) are international: they are priced, and abused, like international calls.
CREATE OR REPLACE MACRO number_class(e) AS CASE
  WHEN e IS NULL THEN 'unknown'
  WHEN regexp_full_match(e, '\+18(00|33|44|55|66|77|88)[0-9]{7}') THEN 'toll-free'
  WHEN regexp_full_match(e, '\+1(900|976)[0-9]{7}') THEN 'premium'
  WHEN regexp_full_match(e, '\+449[0-9]+') THEN 'premium'
  WHEN starts_with(e, '+1') AND substr(e, 3, 3) IN (
    '242', '246', '264', '268', '284', '345', '441', '473', '649', '658', '664',
    '721', '758', '767', '784', '809', '829', '849', '868', '869', '876') THEN 'international'
  WHEN starts_with(e, '+1') THEN 'domestic'
  ELSE 'international'
END;

-- Registration noise: legs the PBX writes when a registration lapses, not calls anyone made.
CREATE OR REPLACE MACRO is_reg_noise_reason(reason) AS
  regexp_matches(coalesce(reason, ''), '(?i)reg(istration)?[ _-]*expired|unregistered|not[ _-]registered');
