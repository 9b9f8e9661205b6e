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
import { claimSends, recordAnswers, type SendAnswer, type SendDecision, type SendKey, type SendPolicy, type SendRow } from './send-log.ts';
import type { StageContext } from '../config/index.ts';
import { timed, type PhaseTimes } from '../util/phase-times.ts';

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
  /** Messages claimed and recorded per open of state.duckdb (default DELIVERY_BATCH). */
  batchSize?: number;
  /** Wall and CPU time of the send-log claims, the hand-overs and the send-log records are added here. */
  times?: PhaseTimes;
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

/** Messages claimed, sent and recorded together: two opens of state.duckdb per batch, not two per message. */
export const DELIVERY_BATCH = 100;

type Claim = { decision: SendDecision; row: SendRow | undefined };

function settled(key: SendKey, claim: Claim): DeliveryOutcome | undefined {
  const { decision, row } = claim;
  if (decision === 'skip') return { ...key, outcome: 'skipped', messageId: row?.message_id ?? undefined, reason: `already ${row?.status}` };
  if (decision === 'maybe-sent') {
    return {
      ...key,
      outcome: 'maybe-sent',
      reason: `left pending by an earlier run (${row?.updated_at}): it may have been delivered; use --force to send again`,
    };
  }
  return undefined;
}

/**
 * Delivers each item once per (report, domain, month, recipient); an item whose recipient is not
 * exactly one valid address fails without being sent or logged as sent.
 *
 * Items go in batches: the batch's messages are looked up and the sendable ones claimed (marked
 * pending) in one open of the state database (a re-run of what was sent costs one open per batch), handed to the transport (`concurrency` at a time), and their answers
 * recorded in one more open. A crash mid-batch leaves the batch's claimed messages pending, which
 * the next run reports as maybe sent (never sends twice); a message not yet handed over when the
 * run is interrupted is recorded as failed, so the next run sends it.
 */
export async function deliver(items: readonly DeliveryItem[], opts: DeliverOptions): Promise<DeliverySummary> {
  const retry: RetryOptions = { ...DEFAULT_RETRY, ...opts.retry };
  const rules = { force: opts.force ?? false, transportKind: opts.transport.kind };
  const limit = pLimit(Math.max(1, opts.concurrency ?? 2));
  const batchSize = Math.max(1, opts.batchSize ?? DELIVERY_BATCH);
  const outcomes: DeliveryOutcome[] = [];
  for (let i = 0; i < items.length; i += batchSize) {
    outcomes.push(...(await deliverBatch(items.slice(i, i + batchSize), rules, retry, limit, opts)));
  }
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

async function deliverBatch(
  batch: readonly DeliveryItem[],
  rules: SendPolicy,
  retry: RetryOptions,
  limit: ReturnType<typeof pLimit>,
  opts: DeliverOptions,
): Promise<DeliveryOutcome[]> {
  const keyOfItem = (item: DeliveryItem): SendKey => ({
    report: item.report,
    domain: item.domain,
    month: item.month,
    recipient: item.recipient,
  });
  const outcomes: (DeliveryOutcome | undefined)[] = batch.map((item) => {
    const key = keyOfItem(item);
    if (opts.signal?.aborted) return { ...key, outcome: 'failed', reason: 'interrupted before sending' };
    const unfit = recipientProblem(item);
    if (unfit) {
      // Nothing is claimed or handed over: a message without exactly one valid recipient is never sent.
      opts.logger.error({ ...key, err: unfit }, 'mail not sent');
      return { ...key, outcome: 'failed', reason: unfit };
    }
    // What the log already says (sent, or left pending) is settled by the claim, in the same read.
    return undefined;
  });
  const toClaim = batch.map((_, i) => i).filter((i) => outcomes[i] === undefined);
  let claims: Claim[];
  try {
    claims = await timed(opts.times, 'send log claim', () =>
      claimSends(
        opts.dataDir,
        toClaim.map((i) => keyOfItem(batch[i]!)),
        rules,
        opts.clock,
        opts.signal,
      ),
    );
  } catch (err) {
    const reason = `could not record the send in state.duckdb, nothing sent: ${errorText(err)}`;
    for (const i of toClaim) outcomes[i] = { ...keyOfItem(batch[i]!), outcome: 'failed', reason };
    return outcomes as DeliveryOutcome[];
  }
  const toSend: number[] = [];
  toClaim.forEach((i, j) => {
    const done = settled(keyOfItem(batch[i]!), claims[j]!);
    if (done) outcomes[i] = done;
    else toSend.push(i);
  });

  // Each claimed message, handed over; its answer waits for the batch's one write to the log.
  const answers = await timed(opts.times, 'smtp', () =>
    Promise.all(
      toSend.map((i) =>
        limit(async (): Promise<{ answer: SendAnswer; outcome: DeliveryOutcome }> => {
          const item = batch[i]!;
          const key = keyOfItem(item);
          if (opts.signal?.aborted) {
            const reason = 'interrupted before sending';
            return { answer: { key, status: 'failed', error: reason }, outcome: { ...key, outcome: 'failed', reason } };
          }
          try {
            const { value, attempts } = await withRetry(() => opts.transport.send(item.mail, opts.signal), retry, {
              signal: opts.signal,
              onRetry: (err, attempt, delayMs) =>
                opts.logger.warn(
                  { report: key.report, domain: key.domain, recipient: key.recipient, attempt, delayMs, err: errorText(err) },
                  'transient mail failure, retrying',
                ),
            });
            opts.logger.info({ ...key, messageId: value.messageId, attempts }, 'mail sent');
            return {
              answer: { key, status: value.confirmed ? 'confirmed' : 'sent', messageId: value.messageId, response: value.response },
              outcome: { ...key, outcome: 'sent', messageId: value.messageId, attempts },
            };
          } catch (err) {
            const reason = errorText(err);
            const attempts = (err as { attempts?: number }).attempts;
            opts.logger.error({ ...key, attempts, err: reason }, 'mail not sent');
            return { answer: { key, status: 'failed', error: reason }, outcome: { ...key, outcome: 'failed', attempts, reason } };
          }
        }),
      ),
    ),
  );
  try {
    await timed(opts.times, 'send log record', () =>
      recordAnswers(
        opts.dataDir,
        answers.map((a) => a.answer),
        opts.clock,
      ),
    );
    toSend.forEach((i, j) => (outcomes[i] = answers[j]!.outcome));
  } catch (err) {
    // Not recorded: the rows stay pending, so the next run reports them as maybe sent.
    const why = errorText(err);
    toSend.forEach((i, j) => {
      const o = answers[j]!.outcome;
      outcomes[i] =
        o.outcome === 'sent'
          ? { ...o, outcome: 'maybe-sent', reason: `delivered but not recorded: ${why}` }
          : { ...o, outcome: 'maybe-sent', reason: `${o.reason}; and the failure could not be recorded: ${why}` };
    });
  }
  return outcomes as DeliveryOutcome[];
}
