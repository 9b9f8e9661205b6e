-- country_code(e164): the ITU calling code of an E.164 number, without '+': '44', '252', '7'.
-- World zone 1 (NANP) is one code for many countries: the US and Canada are '1', the other NANP
-- countries (Caribbean, Bermuda) are '1' plus their area code, e.g. '1876' for Jamaica, as a
-- reseller tells them apart. Zone 7 is one digit; the two-digit codes are listed; the rest have
-- three digits. NULL when the number is not E.164.
CREATE OR REPLACE MACRO country_code(e) AS CASE
  WHEN e IS NULL OR NOT starts_with(e, '+') THEN NULL
  WHEN starts_with(e, '+1') AND number_class(e) = 'international' THEN substr(e, 2, 4)
  WHEN starts_with(e, '+1') OR starts_with(e, '+7') THEN substr(e, 2, 1)
  WHEN substr(e, 2, 2) IN (
    '20', '27', '30', '31', '32', '33', '34', '36', '39', '40', '41', '43', '44', '45', '46', '47', '48', '49',
    '51', '52', '53', '54', '55', '56', '57', '58', '60', '61', '62', '63', '64', '65', '66',
    '81', '82', '84', '86', '90', '91', '92', '93', '94', '95', '98') THEN substr(e, 2, 2)
  ELSE substr(e, 2, 3)
END;
