-- depends_on:
-- carrier_calls: every record of the carriers' CDR files in the lake (lake/carrier_cdrs), typed,
-- with the carrier's reconciliation terms (carrier_terms, from jobs.config.ts). A record is known
-- by its carrier, file and line (record_key): the same file imported under two carriers is two
-- sets of records. The carrier's own call id need not be unique or present.
-- month is the UTC month of start_time, the record's answer moment as the carrier saw it.
SELECT
  c.carrier,
  c.month,
  c.carrier || ':' || c.file_sha256 || ':' || CAST(c.line_number AS VARCHAR) AS record_key,
  c.call_id,
  c.start_time,
  c.from_number,
  c.to_number,
  coalesce(c.to_e164, to_e164(c.to_number)) AS to_e164,
  CAST(c.billed_seconds AS INTEGER) AS billed_seconds,
  CAST(c.cost AS DECIMAL(18, 6)) AS cost,
  coalesce(c.currency, t.currency, 'USD') AS currency,
  c.file_name,
  c.file_sha256,
  CAST(c.line_number AS BIGINT) AS line_number,
  c.imported_at
FROM carrier_cdrs AS c
LEFT JOIN carrier_terms AS t ON t.carrier = c.carrier
