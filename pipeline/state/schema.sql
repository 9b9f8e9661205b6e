-- state.duckdb: small operational tables. Opened, written and closed per use so that no
-- process holds the file between writes (status, sql and report --dry-run run beside the scheduler).

-- Per-domain ingest watermark: every CDR starting before `watermark` is durably in the lake.
CREATE TABLE IF NOT EXISTS watermarks (
  domain      VARCHAR PRIMARY KEY,
  watermark   TIMESTAMPTZ NOT NULL,
  updated_at  TIMESTAMPTZ NOT NULL
);

-- The API's domain list as last fetched (one row, list = 'api'): incremental ticks read their
-- domains from here and ask GET /domains again only when it is older than
-- ingest.domainListMaxAgeMinutes, on a backfill, or when a reseller-wide record names a domain
-- missing from it.
CREATE TABLE IF NOT EXISTS domain_list (
  list        VARCHAR PRIMARY KEY,
  domains     JSON NOT NULL,             -- the names, in the API's order
  fetched_at  TIMESTAMPTZ NOT NULL
);

-- One row per job run (scheduler, `cdrpipe run`, and the stage commands themselves).
CREATE TABLE IF NOT EXISTS runs (
  run_id      VARCHAR PRIMARY KEY,
  job         VARCHAR NOT NULL,
  trigger     VARCHAR NOT NULL,          -- cron | manual | catch-up | after | cli
  scheduled_for TIMESTAMPTZ,             -- the cron tick this run stands for, if any
  started_at  TIMESTAMPTZ NOT NULL,
  ended_at    TIMESTAMPTZ,
  status      VARCHAR NOT NULL,          -- running | ok | failed | interrupted
  rows_written BIGINT,
  requests    BIGINT,
  error       VARCHAR,
  summary     JSON,
  host        VARCHAR,                   -- who ran it: a 'running' row whose pid is gone became 'interrupted'
  pid         INTEGER
);

-- Completeness problems: lake rows vs the API's /cdrs/count for a window, after one re-fetch.
CREATE TABLE IF NOT EXISTS anomalies (
  anomaly_id  VARCHAR PRIMARY KEY,
  domain      VARCHAR NOT NULL,
  window_start TIMESTAMPTZ NOT NULL,
  window_end  TIMESTAMPTZ NOT NULL,
  kind        VARCHAR NOT NULL,          -- count-mismatch | ...
  expected    BIGINT,
  got         BIGINT,
  detail      VARCHAR,
  detected_at TIMESTAMPTZ NOT NULL,
  resolved_at TIMESTAMPTZ
);

-- Send log: one row per (report, domain, month, recipient).
-- pending -> sent (server accepted) -> confirmed (message id recorded); failed; maybe-sent
-- (a crash left it pending after the transport may have accepted it).
CREATE TABLE IF NOT EXISTS sends (
  report      VARCHAR NOT NULL,
  domain      VARCHAR NOT NULL,
  month       VARCHAR NOT NULL,
  recipient   VARCHAR NOT NULL,
  status      VARCHAR NOT NULL,
  message_id  VARCHAR,
  attempts    INTEGER NOT NULL DEFAULT 0,
  error       VARCHAR,
  updated_at  TIMESTAMPTZ NOT NULL,
  transport   VARCHAR,                   -- smtp | outbox
  response    VARCHAR,                   -- the server's last reply, shortened
  PRIMARY KEY (report, domain, month, recipient)
);
-- State files made before these columns existed.
ALTER TABLE sends ADD COLUMN IF NOT EXISTS transport VARCHAR;
ALTER TABLE sends ADD COLUMN IF NOT EXISTS response VARCHAR;

-- Rate-plan versions used by rating, so a re-rated month can say which prices it used.
CREATE TABLE IF NOT EXISTS rating_runs (
  month       VARCHAR NOT NULL,
  domain      VARCHAR NOT NULL,
  plan_id     VARCHAR NOT NULL,
  plan_version VARCHAR NOT NULL,
  rated_at    TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (month, domain)
);

-- Jobs the scheduler has registered, and since when: a job that never ran is still caught up
-- once for a tick missed after this time (runs.status may also be 'mismatch': reconcile found a domain off).
CREATE TABLE IF NOT EXISTS schedule_jobs (
  job         VARCHAR PRIMARY KEY,
  cron        VARCHAR NOT NULL,
  time_zone   VARCHAR NOT NULL,
  first_seen_at TIMESTAMPTZ NOT NULL,
  last_seen_at  TIMESTAMPTZ NOT NULL
);

-- Added by transform/reconcile (money stage). rating_runs: one row per rated (local month, domain);
-- `frozen` rows are closed months whose plan version is kept until `cdrpipe transform --rerate`.
ALTER TABLE rating_runs ADD COLUMN IF NOT EXISTS included_minutes INTEGER;
ALTER TABLE rating_runs ADD COLUMN IF NOT EXISTS frozen BOOLEAN DEFAULT false;

-- Every plan version ever used for rating, with its settings and rate deck as they were, so a
-- frozen month is re-derived with the prices it was billed at, even after the config moved on.
CREATE TABLE IF NOT EXISTS plan_versions (
  plan_id      VARCHAR NOT NULL,
  plan_version VARCHAR NOT NULL,
  plan_json    JSON NOT NULL,            -- the plan's settings (zod-parsed), without the deck rows
  deck_csv     VARCHAR NOT NULL,         -- the rate deck file's text
  content_sha256 VARCHAR NOT NULL,       -- of plan_json + deck_csv: same version must mean same prices
  registered_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (plan_id, plan_version)
);

-- Reconciliation per (customer-local month, domain): lake vs API /cdrs/count, and billed totals.
CREATE TABLE IF NOT EXISTS reconciliations (
  month        VARCHAR NOT NULL,
  domain       VARCHAR NOT NULL,
  status       VARCHAR NOT NULL,         -- ok | off
  detail       VARCHAR,                  -- why it is off, in words
  checked_at   TIMESTAMPTZ NOT NULL,
  time_zone    VARCHAR,
  window_start TIMESTAMPTZ,
  window_end   TIMESTAMPTZ,
  api_total    BIGINT,
  api_seconds  BIGINT,
  lake_total   BIGINT,
  lake_seconds BIGINT,
  duplicate_ids BIGINT,
  rejects      BIGINT,
  open_anomalies BIGINT,
  billed_charge DECIMAL(18, 6),
  billed_s     BIGINT,
  currency     VARCHAR,
  by_class     JSON,
  PRIMARY KEY (month, domain)
);

-- Alerts raised by the rules (reports/alerts/*.sql): one row per (rule, domain, key, window), so
-- the same finding from overlapping evaluations is one alert. `level` counts notifications: 0 is
-- the first, each doubling of the amount (of the calls for findings not about money) since the
-- last notified one adds 1 and notifies again.
CREATE TABLE IF NOT EXISTS alerts (
  alert_id     VARCHAR PRIMARY KEY,      -- short hash of (rule, domain, key, window_start, window_end)
  rule         VARCHAR NOT NULL,
  domain       VARCHAR NOT NULL,
  key          VARCHAR NOT NULL,         -- extension, destination country code, '' for domain-wide
  window_start TIMESTAMPTZ NOT NULL,
  window_end   TIMESTAMPTZ NOT NULL,
  severity     VARCHAR NOT NULL,
  calls        BIGINT NOT NULL,
  amount       DECIMAL(18, 6),           -- the domain's currency; NULL when the finding is not about money
  estimated    BOOLEAN NOT NULL,
  message      VARCHAR NOT NULL,
  evidence     JSON,
  raised_at    TIMESTAMPTZ NOT NULL,
  updated_at   TIMESTAMPTZ NOT NULL,
  level        INTEGER NOT NULL,
  notified_measure DECIMAL(18, 6) NOT NULL, -- amount (or calls) when `level` was reached
  acked_at     TIMESTAMPTZ
);

-- Alert delivery, one row per (alert, level, channel), with the send log's discipline:
-- queued -> pending (claimed, handed to the channel) -> sent; failed (retried on the next run);
-- a crash leaves a row pending: mail is then not resent (it may have gone), a webhook is resent
-- with the same idempotency key.
CREATE TABLE IF NOT EXISTS alert_deliveries (
  alert_id    VARCHAR NOT NULL,
  level       INTEGER NOT NULL,
  channel     VARCHAR NOT NULL,          -- email:<address> | webhook
  status      VARCHAR NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 0,
  response    VARCHAR,
  error       VARCHAR,
  queued_at   TIMESTAMPTZ NOT NULL,
  updated_at  TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (alert_id, level, channel)
);

-- How far live alert evaluation has read the lake (its rows' ingested_at), written in the same
-- transaction as the alerts it raised.
CREATE TABLE IF NOT EXISTS alert_cursor (
  name        VARCHAR PRIMARY KEY,       -- live
  ingested_to TIMESTAMPTZ NOT NULL,
  evaluated_at TIMESTAMPTZ NOT NULL,
  calls       BIGINT NOT NULL
);

-- The lake files as the live alert evaluation listed them before reading (path under lake/cdrs,
-- stamp size:mtime-ns:inode), replaced with the cursor: a file whose stamp is still the same holds
-- no row newer than the cursor, so the next evaluation does not open it.
CREATE TABLE IF NOT EXISTS alert_lake_files (
  file        VARCHAR NOT NULL,
  stamp       VARCHAR NOT NULL
);
