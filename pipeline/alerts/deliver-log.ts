/**
 * The alert delivery log (`alert_deliveries`), with the send log's claim/confirm discipline: a row
 * is claimed (marked pending) in one open of state.duckdb before the channel is used, and its
 * answer recorded after, so two runs at once cannot both send it and a crash in between is seen.
 */
import { existsSync } from 'node:fs';
import { statePath, withState } from '../state/index.ts';
import { redact } from '../util/errors.ts';
import { alertColumns, toAlert, type StoredAlert } from './alert-store.ts';

export const DELIVERY_STATUSES = ['queued', 'pending', 'sent', 'failed', 'expired'] as const;
export type AlertDeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One (alert, level, channel) to deliver. */
export interface DeliveryKey {
  alertId: string;
  level: number;
  channel: string;
}

export interface DeliveryRow extends DeliveryKey {
  status: AlertDeliveryStatus;
  attempts: number;
  queuedAt: Date;
}

/** How long a failing delivery is tried again on later runs before it is given up ('expired'). */
export const DELIVERY_GIVE_UP_MS = 24 * 3600_000;

/** Deliveries not yet done (queued, failed, pending), oldest first, with their alerts. */
export async function readUndelivered(dataDir: string, signal?: AbortSignal): Promise<{ row: DeliveryRow; alert: StoredAlert }[]> {
  return withState(
    dataDir,
    async (db) => {
      const rows = await db.all(
        `SELECT d.alert_id AS d_id, d.level AS d_level, d.channel AS d_channel, d.status AS d_status, d.attempts AS d_attempts,
                epoch_ms(d.queued_at) AS d_queued, ${alertColumns('a')}
         FROM alert_deliveries d JOIN alerts a ON a.alert_id = d.alert_id
         WHERE d.status IN ('queued', 'failed', 'pending')
         ORDER BY d.queued_at, d.alert_id, d.level, d.channel`,
      );
      return rows.map((r) => ({
        row: {
          alertId: String(r.d_id),
          level: Number(r.d_level),
          channel: String(r.d_channel),
          status: String(r.d_status) as AlertDeliveryStatus,
          attempts: Number(r.d_attempts),
          queuedAt: new Date(Number(r.d_queued)),
        },
        alert: toAlert(r),
      }));
    },
    { signal },
  );
}

export const CLAIM_DECISIONS = ['send', 'skip', 'maybe-sent'] as const;
export type ClaimDecision = (typeof CLAIM_DECISIONS)[number];

/**
 * Claims a delivery: re-reads its row and marks it pending in one open of the state database.
 * A row already sent (or given up) is skipped. A pending row was handed to its channel by a run
 * that stopped before recording the answer: `resendPending` (a webhook, whose receiver dedupes by
 * the idempotency key) sends it again, otherwise (mail) it is left as maybe-sent.
 */
export async function claimDelivery(
  dataDir: string,
  key: DeliveryKey,
  opts: { resendPending: boolean; now: Date; signal?: AbortSignal },
): Promise<ClaimDecision> {
  return withState(
    dataDir,
    async (db) => {
      const row = await db.one<{ status: string }>(
        `SELECT status FROM alert_deliveries WHERE alert_id = $alertId AND level = $level AND channel = $channel`,
        { ...key },
      );
      if (!row || row.status === 'sent' || row.status === 'expired') return 'skip';
      if (row.status === 'pending' && !opts.resendPending) return 'maybe-sent';
      await db.run(
        `UPDATE alert_deliveries SET status = 'pending', attempts = attempts + 1, error = NULL, updated_at = $now::TIMESTAMPTZ
         WHERE alert_id = $alertId AND level = $level AND channel = $channel`,
        { ...key, now: opts.now.toISOString() },
      );
      return 'send';
    },
    { signal: opts.signal },
  );
}

async function setStatus(
  dataDir: string,
  key: DeliveryKey,
  status: AlertDeliveryStatus,
  fields: { response?: string; error?: string },
  now: Date,
): Promise<void> {
  await withState(dataDir, (db) =>
    db.run(
      `UPDATE alert_deliveries SET status = $status, response = coalesce($response, response), error = $error, updated_at = $now::TIMESTAMPTZ
       WHERE alert_id = $alertId AND level = $level AND channel = $channel`,
      {
        ...key,
        status,
        response: fields.response === undefined ? null : redact(fields.response).slice(0, 500),
        error: fields.error === undefined ? null : redact(fields.error).slice(0, 1000),
        now: now.toISOString(),
      },
    ),
  );
}

/** The channel took it (mail server or outbox accepted the message; the webhook answered 2xx). */
export const markDeliverySent = (dataDir: string, key: DeliveryKey, response: string, now: Date) =>
  setStatus(dataDir, key, 'sent', { response }, now);

/** The channel refused or could not be reached: tried again on the next run. */
export const markDeliveryFailed = (dataDir: string, key: DeliveryKey, error: string, now: Date) =>
  setStatus(dataDir, key, 'failed', { error }, now);

/** Still failing a day after it was queued: given up, left in the log for the operator. */
export const markDeliveryExpired = (dataDir: string, key: DeliveryKey, error: string, now: Date) =>
  setStatus(dataDir, key, 'expired', { error }, now);

/** Deliveries not done, by status, for `cdrpipe status` (read-only; {} before any alert). */
export async function countUndelivered(dataDir: string): Promise<Record<string, number>> {
  if (!existsSync(statePath(dataDir))) return {};
  return withState(
    dataDir,
    async (db) => {
      const has = await db.one<{ n: unknown }>(
        `SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'alert_deliveries' AND schema_name = 'main'`,
      );
      if (Number(has?.n ?? 0) === 0) return {};
      const rows = await db.all<{ status: string; n: unknown }>(
        `SELECT status, count(*) AS n FROM alert_deliveries WHERE status <> 'sent' GROUP BY status ORDER BY status`,
      );
      return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
    },
    { readOnly: true },
  );
}
