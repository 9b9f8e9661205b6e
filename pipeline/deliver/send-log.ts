/**
 * The send log in state.duckdb (`sends`, keyed by report, domain, month, recipient). Every state
 * change opens, writes and closes the database (withState), so it is never held open across an
 * SMTP conversation; writes from this process are queued one at a time. Claims and answers come
 * in batches (one open for many messages): an open with its checkpoint costs far more than the
 * rows it writes.
 */
import type { Clock } from '../util/clock.ts';
import { withState } from '../state/index.ts';
import { listValue, type DuckDBValue } from '@duckdb/node-api';
import type { Db } from '../db/duckdb.ts';

export const SEND_STATUSES = ['pending', 'sent', 'confirmed', 'failed'] as const;
export type SendStatus = (typeof SEND_STATUSES)[number];

export interface SendKey {
  report: string;
  domain: string;
  month: string;
  recipient: string;
}

export interface SendRow extends SendKey {
  status: SendStatus;
  message_id: string | null;
  attempts: number;
  error: string | null;
  transport: string | null;
  response: string | null;
  updated_at: string;
}

export const keyOf = (k: SendKey) => JSON.stringify([k.report, k.domain, k.month, k.recipient]);

// withState already lets one handle at a time open the file within this process.
function state<T>(dataDir: string, fn: (db: Db) => Promise<T>, signal?: AbortSignal): Promise<T> {
  return withState(dataDir, fn, { signal });
}

/** Every send-log row of one report-month. */
export async function readSends(dataDir: string, report: string, month: string): Promise<Map<string, SendRow>> {
  const rows = await state(dataDir, (db) =>
    db.all(
      `SELECT report, domain, month, recipient, status, message_id, attempts, error, transport, response, CAST(updated_at AS VARCHAR) AS updated_at
            FROM sends WHERE report = $report AND month = $month`,
      { report, month },
    ),
  );
  return new Map((rows as unknown as SendRow[]).map((r) => [keyOf(r), r]));
}

export const SEND_DECISIONS = ['send', 'skip', 'maybe-sent'] as const;
export type SendDecision = (typeof SEND_DECISIONS)[number];

/** A claim's outcome: the decision that stood at claim time, and the log row it came from. */
export interface Claimed {
  decision: SendDecision;
  row: SendRow | undefined;
}

/** What decides whether a logged message goes again. */
export interface SendPolicy {
  /** Send even what the log says was sent (or may have been). */
  force: boolean;
  /** The transport of this run (`smtp`, `outbox`, ...): an outbox row is sent again over a real one. */
  transportKind: string;
}

/**
 * Whether to send, from the log row. Sent/confirmed rows are skipped, except outbox rows when a
 * real mail server is configured now (an .eml in the outbox reached nobody). A pending row means
 * a run stopped between handing the message over and recording the answer: it may have been
 * delivered, so it is not resent without --force.
 */
export function decideSend(row: SendRow | undefined, opts: SendPolicy): SendDecision {
  if (!row || opts.force) return 'send';
  if (row.status === 'pending') return 'maybe-sent';
  if (row.status === 'sent' || row.status === 'confirmed') {
    return row.transport === 'outbox' && opts.transportKind !== 'outbox' ? 'send' : 'skip';
  }
  return 'send';
}

const SELECT_ROW = `SELECT report, domain, month, recipient, status, message_id, attempts, error, transport, response, CAST(updated_at AS VARCHAR) AS updated_at
         FROM sends WHERE report = $report AND domain = $domain AND month = $month AND recipient = $recipient`;

/**
 * Claims messages for sending: re-reads each row and marks it pending, all in one open of the
 * state database (which no other process can hold meanwhile), so two runs at once cannot both
 * send one. Returns, per key in order, the decision that stood at claim time; only 'send' means
 * the row is now pending.
 */
export async function claimSends(
  dataDir: string,
  keys: readonly SendKey[],
  opts: SendPolicy,
  clock: Clock,
  signal?: AbortSignal,
): Promise<Claimed[]> {
  if (keys.length === 0) return [];
  return state(
    dataDir,
    async (db) => {
      const now = clock.now().toISOString();
      await db.run('BEGIN TRANSACTION');
      try {
        const out = hasRepeats(keys) ? await claimOneByOne(db, keys, opts, now) : await claimTogether(db, keys, opts, now);
        await db.run('COMMIT');
        return out;
      } catch (err) {
        await db.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
    },
    signal,
  );
}

const CLAIM_ROW = `INSERT INTO sends (report, domain, month, recipient, status, attempts, transport, updated_at)`;
const CLAIM_CONFLICT = `ON CONFLICT (report, domain, month, recipient) DO UPDATE SET
               status = 'pending', attempts = sends.attempts + 1, error = NULL, transport = excluded.transport, updated_at = excluded.updated_at`;

/** True when a key occurs twice: each occurrence must then see what the one before it wrote. */
function hasRepeats(keys: readonly SendKey[]): boolean {
  return new Set(keys.map(keyOf)).size !== keys.length;
}

/** The keys as four parallel lists, for `unnest` (one statement for many keys). */
function keyLists(keys: readonly SendKey[]): Record<string, DuckDBValue> {
  return {
    reports: listValue(keys.map((k) => k.report)),
    domains: listValue(keys.map((k) => k.domain)),
    months: listValue(keys.map((k) => k.month)),
    recipients: listValue(keys.map((k) => k.recipient)),
  };
}
const KEYS_TABLE = `SELECT unnest($reports) AS report, unnest($domains) AS domain, unnest($months) AS month, unnest($recipients) AS recipient`;

/** Distinct keys: one read of their rows, then one insert-or-update marking the sendable ones pending. */
async function claimTogether(db: Db, keys: readonly SendKey[], opts: SendPolicy, now: string): Promise<Claimed[]> {
  const rows = (await db.all(
    `SELECT s.report, s.domain, s.month, s.recipient, s.status, s.message_id, s.attempts, s.error, s.transport, s.response,
            CAST(s.updated_at AS VARCHAR) AS updated_at
       FROM sends s JOIN (${KEYS_TABLE}) k USING (report, domain, month, recipient)`,
    keyLists(keys),
  )) as unknown as SendRow[];
  const byKey = new Map(rows.map((r) => [keyOf(r), r]));
  const out = keys.map((key) => {
    const row = byKey.get(keyOf(key));
    return { decision: decideSend(row, opts), row };
  });
  const toSend = keys.filter((_, i) => out[i]!.decision === 'send');
  if (toSend.length > 0) {
    await db.run(
      `${CLAIM_ROW} SELECT report, domain, month, recipient, 'pending', 1, $transport, $now::TIMESTAMPTZ FROM (${KEYS_TABLE}) ${CLAIM_CONFLICT}`,
      {
        ...keyLists(toSend),
        transport: opts.transportKind,
        now,
      },
    );
  }
  return out;
}

async function claimOneByOne(db: Db, keys: readonly SendKey[], opts: SendPolicy, now: string): Promise<Claimed[]> {
  const out: Claimed[] = [];
  for (const key of keys) {
    const row = (await db.one(SELECT_ROW, { ...key })) as SendRow | undefined;
    const decision = decideSend(row, opts);
    out.push({ decision, row });
    if (decision !== 'send') continue;
    await db.run(
      `${CLAIM_ROW} VALUES ($report, $domain, $month, $recipient, 'pending', 1, $transport, $now::TIMESTAMPTZ) ${CLAIM_CONFLICT}`,
      {
        ...key,
        transport: opts.transportKind,
        now,
      },
    );
  }
  return out;
}

/** Claims one message for sending (claimSends for one key). */
export async function claimSend(dataDir: string, key: SendKey, opts: SendPolicy, clock: Clock, signal?: AbortSignal): Promise<Claimed> {
  const [claim] = await claimSends(dataDir, [key], opts, clock, signal);
  return claim!;
}

/**
 * A transport's answer for a claimed message: delivered (sent to the outbox, or confirmed by a
 * server's 250 and message id), or failed with the error the server or network reported.
 */
export type SendAnswer =
  { key: SendKey; status: 'sent' | 'confirmed'; messageId: string; response: string } | { key: SendKey; status: 'failed'; error: string };

const SET_FAILED = `status = 'failed', error = $error, updated_at = $now::TIMESTAMPTZ`;
const SET_DELIVERED = `status = $status, message_id = $message_id, response = $response, error = NULL, updated_at = $now::TIMESTAMPTZ`;
const KEY_MATCH = `report = $report AND domain = $domain AND month = $month AND recipient = $recipient`;

/**
 * Records the answers of claimed messages, in one open of the state database: one update for the
 * failures and one for the deliveries (per answer only when a key repeats, so the last answer wins).
 */
export async function recordAnswers(dataDir: string, answers: readonly SendAnswer[], clock: Clock): Promise<void> {
  if (answers.length === 0) return;
  await state(dataDir, async (db) => {
    const now = clock.now().toISOString();
    await db.run('BEGIN TRANSACTION');
    try {
      if (hasRepeats(answers.map((a) => a.key))) {
        for (const a of answers) {
          if (a.status === 'failed')
            await db.run(`UPDATE sends SET ${SET_FAILED} WHERE ${KEY_MATCH}`, { ...a.key, error: a.error.slice(0, 1000), now });
          else {
            await db.run(`UPDATE sends SET ${SET_DELIVERED} WHERE ${KEY_MATCH}`, {
              ...a.key,
              status: a.status,
              message_id: a.messageId,
              response: a.response.slice(0, 500),
              now,
            });
          }
        }
      } else {
        const failed = answers.filter((a) => a.status === 'failed');
        const delivered = answers.filter((a) => a.status !== 'failed');
        if (failed.length > 0) {
          await db.run(
            `UPDATE sends SET status = 'failed', error = v.error, updated_at = $now::TIMESTAMPTZ
               FROM (SELECT unnest($reports) AS report, unnest($domains) AS domain, unnest($months) AS month, unnest($recipients) AS recipient,
                            unnest($errors) AS error) v
              WHERE sends.report = v.report AND sends.domain = v.domain AND sends.month = v.month AND sends.recipient = v.recipient`,
            { ...keyLists(failed.map((a) => a.key)), errors: listValue(failed.map((a) => a.error.slice(0, 1000))), now },
          );
        }
        if (delivered.length > 0) {
          await db.run(
            `UPDATE sends SET status = v.status, message_id = v.message_id, response = v.response, error = NULL, updated_at = $now::TIMESTAMPTZ
               FROM (SELECT unnest($reports) AS report, unnest($domains) AS domain, unnest($months) AS month, unnest($recipients) AS recipient,
                            unnest($statuses) AS status, unnest($message_ids) AS message_id, unnest($responses) AS response) v
              WHERE sends.report = v.report AND sends.domain = v.domain AND sends.month = v.month AND sends.recipient = v.recipient`,
            {
              ...keyLists(delivered.map((a) => a.key)),
              statuses: listValue(delivered.map((a) => a.status)),
              message_ids: listValue(delivered.map((a) => a.messageId)),
              responses: listValue(delivered.map((a) => a.response.slice(0, 500))),
              now,
            },
          );
        }
      }
      await db.run('COMMIT');
    } catch (err) {
      await db.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
  });
}

/** Records the transport's answer: sent (outbox) or confirmed (a server's 250 and message id). */
export async function markDelivered(
  dataDir: string,
  key: SendKey,
  result: { status: 'sent' | 'confirmed'; messageId: string; response: string },
  clock: Clock,
): Promise<void> {
  await recordAnswers(dataDir, [{ key, ...result }], clock);
}

/** Records a failure the server or network reported: safe to retry on the next run. */
export async function markFailed(dataDir: string, key: SendKey, error: string, clock: Clock): Promise<void> {
  await recordAnswers(dataDir, [{ key, status: 'failed', error }], clock);
}
