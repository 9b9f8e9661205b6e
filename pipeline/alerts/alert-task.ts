/**
 * One live alerting pass, as the `alerts` job runs it: evaluate the rules over what landed in the
 * lake since the cursor, record the findings and the new cursor in one transaction, then deliver
 * what is queued.
 */
import type { EnvConfig, StageContext } from '../config/index.ts';
import { createTransportFromEnv, type MailTransport, type RetryOptions } from '../deliver/index.ts';
import type { SleepFn } from '../util/sleep.ts';
import { readAlertPosition, recordEvaluation, type RecordSummary } from './alert-store.ts';
import { alertChannels, deliverAlerts, type AlertDeliverySummary } from './deliver-alerts.ts';
import { evaluateAlerts } from './evaluate-alerts.ts';

export interface AlertRunOptions extends StageContext {
  env: Pick<EnvConfig, 'mailFrom' | 'alertWebhookSecret' | 'smtpUrl'>;
  /** Default: SMTP_URL's server, else the outbox. */
  transport?: MailTransport;
  mailRetry?: Partial<RetryOptions>;
  sleep?: SleepFn;
}

export interface AlertRunSummary {
  /** Where this pass started reading (ingested_at), null on the first. */
  since: string | null;
  cursor: string | null;
  callsEvaluated: number;
  recorded: RecordSummary;
  delivery: Omit<AlertDeliverySummary, 'outcomes'>;
}

/** Runs one live pass; the findings are stored even when delivery then fails (it is retried next run). */
export async function runAlerts(opts: AlertRunOptions): Promise<AlertRunSummary> {
  // Config problems (a webhook without its secret) stop the pass before anything is read.
  const channels = alertChannels(opts.config, opts.env);
  const { since, seen } = await readAlertPosition(opts.dataDir, opts.signal);
  let evaluation;
  let recorded;
  try {
    evaluation = await evaluateAlerts(opts, { kind: 'live', since, seen });
    opts.signal?.throwIfAborted();
    recorded = await recordEvaluation({ dataDir: opts.dataDir, now: opts.clock.now(), channels, signal: opts.signal }, evaluation);
  } catch (err) {
    // Alerts raised by earlier passes still go out when this pass cannot evaluate (a rule failing).
    if (!opts.signal?.aborted) await deliverQueued(opts).catch(() => undefined);
    throw err;
  }
  const delivery = await deliverQueued(opts);
  const { outcomes: _outcomes, ...counts } = delivery;
  return {
    since: since?.toISOString() ?? null,
    cursor: recorded.cursor?.toISOString() ?? null,
    callsEvaluated: evaluation.callsEvaluated,
    recorded,
    delivery: counts,
  };
}

async function deliverQueued(opts: AlertRunOptions): Promise<AlertDeliverySummary> {
  const transport = opts.transport ?? createTransportFromEnv(opts.env, opts.dataDir, opts.clock);
  try {
    return await deliverAlerts({ ...opts, transport, mailRetry: opts.mailRetry, sleep: opts.sleep });
  } finally {
    if (!opts.transport) await transport.close();
  }
}

/** "412 calls evaluated; 2 new alerts, 1 escalated; 3 notifications sent" for the run log and the CLI. */
export function describeAlertRun(s: AlertRunSummary): string {
  const r = s.recorded;
  const d = s.delivery;
  const parts = [`${s.callsEvaluated} calls evaluated`, `${r.new} new alert(s)`];
  if (r.escalated) parts.push(`${r.escalated} escalated`);
  parts.push(`${d.sent} notification(s) sent`);
  if (d.failed) parts.push(`${d.failed} failed (retried next run)`);
  if (d.maybeSent) parts.push(`${d.maybeSent} maybe sent (not resent)`);
  if (d.expired) parts.push(`${d.expired} given up`);
  return parts.join('; ');
}
