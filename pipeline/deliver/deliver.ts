/**
 * Sends messages at most once per (report, domain, month, recipient): decide from the send log,
 * mark pending, hand to the transport (retrying transient failures), record the answer. One
 * message's failure never stops the others.
 */
import pLimit from 'p-limit';
import { redact } from '../util/errors.ts';
import { mailAddressProblem } from '../util/mail-address.ts';
import type { MailTransport, OutgoingMail } from './mail-transport.ts';
import { DEFAULT_RETRY, withRetry, type RetryOptions } from './retry.ts';
import {
  claimSend,
  decideSend,
  keyOf,
  markDelivered,
  markFailed,
  readSends,
  type SendDecision,
  type SendKey,
  type SendRow,
} from './send-log.ts';
import type { StageContext } from '../config/index.ts';

export interface DeliveryItem extends SendKey {
  mail: OutgoingMail;
}

export const DELIVERY_OUTCOMES = ['sent', 'skipped', 'maybe-sent', 'failed'] as const;
export type DeliveryOutcomeKind = (typeof DELIVERY_OUTCOMES)[number];

export interface DeliveryOutcome extends SendKey {
  outcome: DeliveryOutcomeKind;
  messageId?: string;
  attempts?: number;
  /** Why it failed, or why it was skipped / held back. */
  reason?: string;
}

export interface DeliverySummary {
  transport: string;
  sent: number;
  skipped: number;
  maybeSent: number;
  failed: number;
  outcomes: DeliveryOutcome[];
}

export interface DeliverOptions extends Omit<StageContext, 'config'> {
  transport: MailTransport;
  force?: boolean;
  retry?: Partial<RetryOptions>;
  /** Messages in flight at once (the SMTP pool also limits connections). */
  concurrency?: number;
}

function errorText(err: unknown): string {
  const e = err as { message?: unknown; responseCode?: unknown; code?: unknown };
  const base = typeof e?.message === 'string' ? e.message : String(err);
  const code = typeof e?.responseCode === 'number' ? ` (SMTP ${e.responseCode})` : typeof e?.code === 'string' ? ` (${e.code})` : '';
  return redact(base + code);
}

/** Why an item cannot go out: its recipient is not exactly one address, or the message is addressed elsewhere. */
function recipientProblem(item: DeliveryItem): string | undefined {
  const problem = mailAddressProblem(item.recipient);
  if (problem) return `recipient ${problem}; nothing sent`;
  if (item.mail.to.address !== item.recipient)
    return `the message is addressed to ${JSON.stringify(item.mail.to.address)}, not to the recipient ${JSON.stringify(item.recipient)}; nothing sent`;
  return undefined;
}

/**
 * Delivers each item once per (report, domain, month, recipient); an item whose recipient is not
 * exactly one valid address fails without being sent or logged as sent.
 */
export async function deliver(items: readonly DeliveryItem[], opts: DeliverOptions): Promise<DeliverySummary> {
  const retry: RetryOptions = { ...DEFAULT_RETRY, ...opts.retry };
  const force = opts.force ?? false;
  // One read of the log settles what was already sent (a re-run then costs one open of
  // state.duckdb, not one per message); what is left is claimed one by one, re-checked at claim.
  const snapshot = new Map<string, SendRow>();
  for (const group of new Set(items.map((i) => JSON.stringify([i.report, i.month])))) {
    const [report, month] = JSON.parse(group) as [string, string];
    for (const [k, v] of await readSends(opts.dataDir, report, month)) snapshot.set(k, v);
  }
  const limit = pLimit(Math.max(1, opts.concurrency ?? 2));
  const outcomes = await Promise.all(
    items.map((item) =>
      limit(async (): Promise<DeliveryOutcome> => {
        const key: SendKey = { report: item.report, domain: item.domain, month: item.month, recipient: item.recipient };
        if (opts.signal?.aborted) return { ...key, outcome: 'failed', reason: 'interrupted before sending' };
        const unfit = recipientProblem(item);
        if (unfit) {
          // Nothing is claimed or handed over: a message without exactly one valid recipient is never sent.
          opts.logger.error({ ...key, err: unfit }, 'mail not sent');
          return { ...key, outcome: 'failed', reason: unfit };
        }
        const rules = { force, transportKind: opts.transport.kind };
        const seen = snapshot.get(keyOf(key));
        let claim: { decision: SendDecision; row: SendRow | undefined } = { decision: decideSend(seen, rules), row: seen };
        if (claim.decision === 'send') {
          try {
            claim = await claimSend(opts.dataDir, key, rules, opts.clock, opts.signal);
          } catch (err) {
            return { ...key, outcome: 'failed', reason: `could not record the send in state.duckdb, nothing sent: ${errorText(err)}` };
          }
        }
        const { decision, row } = claim;
        if (decision === 'skip')
          return { ...key, outcome: 'skipped', messageId: row?.message_id ?? undefined, reason: `already ${row?.status}` };
        if (decision === 'maybe-sent') {
          return {
            ...key,
            outcome: 'maybe-sent',
            reason: `left pending by an earlier run (${row?.updated_at}): it may have been delivered; use --force to send again`,
          };
        }
        let result;
        try {
          result = await withRetry(() => opts.transport.send(item.mail, opts.signal), retry, {
            signal: opts.signal,
            onRetry: (err, attempt, delayMs) =>
              opts.logger.warn(
                { report: key.report, domain: key.domain, recipient: key.recipient, attempt, delayMs, err: errorText(err) },
                'transient mail failure, retrying',
              ),
          });
        } catch (err) {
          const reason = errorText(err);
          const attempts = (err as { attempts?: number }).attempts;
          opts.logger.error({ ...key, attempts, err: reason }, 'mail not sent');
          try {
            await markFailed(opts.dataDir, key, reason, opts.clock);
          } catch (markErr) {
            return {
              ...key,
              outcome: 'maybe-sent',
              attempts,
              reason: `${reason}; and the failure could not be recorded: ${errorText(markErr)}`,
            };
          }
          return { ...key, outcome: 'failed', attempts, reason };
        }
        const { value, attempts } = result;
        try {
          await markDelivered(
            opts.dataDir,
            key,
            { status: value.confirmed ? 'confirmed' : 'sent', messageId: value.messageId, response: value.response },
            opts.clock,
          );
        } catch (err) {
          // Delivered but not recorded: the row stays pending, so the next run reports maybe-sent.
          return {
            ...key,
            outcome: 'maybe-sent',
            messageId: value.messageId,
            attempts,
            reason: `delivered but not recorded: ${errorText(err)}`,
          };
        }
        opts.logger.info({ ...key, messageId: value.messageId, attempts }, 'mail sent');
        return { ...key, outcome: 'sent', messageId: value.messageId, attempts };
      }),
    ),
  );
  const count = (k: DeliveryOutcomeKind) => outcomes.filter((o) => o.outcome === k).length;
  return {
    transport: opts.transport.description,
    sent: count('sent'),
    skipped: count('skipped'),
    maybeSent: count('maybe-sent'),
    failed: count('failed'),
    outcomes,
  };
}
