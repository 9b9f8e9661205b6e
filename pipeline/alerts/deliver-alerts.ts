/**
 * Delivers queued alert notifications, each (alert, level, channel) once: email through the mail
 * transport (SMTP or the outbox) and the signed webhook. A failure is recorded and tried again on
 * the next run; one channel's failure never stops the others.
 */
import type { CdrpipeConfig, EnvConfig, StageContext } from '../config/index.ts';
import { customerFor } from '../config/index.ts';
import { DEFAULT_RETRY, withRetry, type MailTransport, type RetryOptions } from '../deliver/index.ts';
import { ConfigError, redact } from '../util/errors.ts';
import type { SleepFn } from '../util/sleep.ts';
import { severityAtLeast } from './alert-identity.ts';
import { alertMail, idempotencyKeyOf, webhookJsonBody, webhookSlackBody } from './alert-format.ts';
import type { ChannelPicker, StoredAlert } from './alert-store.ts';
import {
  claimDelivery,
  DELIVERY_GIVE_UP_MS,
  markDeliveryExpired,
  markDeliveryFailed,
  markDeliverySent,
  readUndelivered,
  type DeliveryKey,
} from './deliver-log.ts';
import { postWebhook } from './webhook-post.ts';

export const WEBHOOK_CHANNEL = 'webhook';
const EMAIL_PREFIX = 'email:';

/**
 * Who gets an alert, from `alerts.delivery`: the operator's address, the domain's report
 * recipients when `email.domainContacts`, and the webhook when one is configured; nothing below
 * `minSeverity`. Throws ConfigError (exit 2) for a JSON webhook without a signing secret.
 */
export function alertChannels(config: CdrpipeConfig, env: Pick<EnvConfig, 'alertWebhookSecret'>): ChannelPicker {
  const d = config.alerts.delivery;
  if (d.webhook && d.webhook.format === 'json' && !env.alertWebhookSecret) {
    throw new ConfigError(
      'alerts.delivery.webhook is set but CDRPIPE_ALERT_WEBHOOK_SECRET is not: set it to a random string shared with the receiver (it signs every request)',
      'CDRPIPE_ALERT_WEBHOOK_SECRET',
    );
  }
  return ({ domain, severity }) => {
    if (!severityAtLeast(severity, d.minSeverity)) return [];
    const to = new Set<string>();
    if (d.email.operator && config.reseller.operatorEmail) to.add(config.reseller.operatorEmail);
    if (d.email.domainContacts) for (const r of customerFor(config, domain).recipients) to.add(r);
    return [...[...to].map((a) => EMAIL_PREFIX + a), ...(d.webhook ? [WEBHOOK_CHANNEL] : [])];
  };
}

export interface AlertDeliveryOptions extends StageContext {
  env: Pick<EnvConfig, 'mailFrom' | 'alertWebhookSecret'>;
  transport: MailTransport;
  /** Mail retries (defaults: the report mail's). */
  mailRetry?: Partial<RetryOptions>;
  /** Injectable waits between webhook tries (tests). */
  sleep?: SleepFn;
}

export interface AlertDeliverySummary {
  sent: number;
  failed: number;
  /** Mail a stopped run may have handed over: not resent, shown in status. */
  maybeSent: number;
  skipped: number;
  expired: number;
  outcomes: {
    alertId: string;
    level: number;
    channel: string;
    outcome: 'sent' | 'failed' | 'maybe-sent' | 'skipped' | 'expired';
    detail?: string;
  }[];
}

function errorText(err: unknown): string {
  const e = err as { message?: unknown; responseCode?: unknown; code?: unknown };
  const base = typeof e?.message === 'string' ? e.message : String(err);
  const code = typeof e?.responseCode === 'number' ? ` (SMTP ${e.responseCode})` : typeof e?.code === 'string' ? ` (${e.code})` : '';
  return redact(base + code);
}

/** Sends every queued or failed notification, and resends webhooks a stopped run left pending. */
export async function deliverAlerts(opts: AlertDeliveryOptions): Promise<AlertDeliverySummary> {
  const summary: AlertDeliverySummary = { sent: 0, failed: 0, maybeSent: 0, skipped: 0, expired: 0, outcomes: [] };
  const webhook = opts.config.alerts.delivery.webhook;
  let webhookDown: string | undefined;
  const note = (key: DeliveryKey, outcome: AlertDeliverySummary['outcomes'][number]['outcome'], detail?: string) => {
    summary.outcomes.push({ ...key, outcome, ...(detail ? { detail } : {}) });
    if (outcome === 'sent') summary.sent++;
    else if (outcome === 'failed') summary.failed++;
    else if (outcome === 'maybe-sent') summary.maybeSent++;
    else if (outcome === 'expired') summary.expired++;
    else summary.skipped++;
  };
  for (const { row, alert } of await readUndelivered(opts.dataDir, opts.signal)) {
    if (opts.signal?.aborted) break;
    const key: DeliveryKey = { alertId: row.alertId, level: row.level, channel: row.channel };
    const now = opts.clock.now();
    if (row.status === 'failed' && now.getTime() - row.queuedAt.getTime() > DELIVERY_GIVE_UP_MS) {
      const why = `still failing ${Math.round(DELIVERY_GIVE_UP_MS / 3600_000)} h after the alert was raised: given up`;
      await markDeliveryExpired(opts.dataDir, key, why, now);
      opts.logger.error({ ...key }, `alert delivery ${why}`);
      note(key, 'expired', why);
      continue;
    }
    const isWebhook = row.channel === WEBHOOK_CHANNEL;
    if (isWebhook && (!webhook || webhookDown)) {
      // Left as it is (queued or failed) for a later run: no endpoint now, or it is down this run.
      note(key, 'skipped', webhook ? `webhook unreachable this run (${webhookDown}); tried again next run` : 'no webhook configured now');
      continue;
    }
    const decision = await claimDelivery(opts.dataDir, key, { resendPending: isWebhook, now, signal: opts.signal });
    if (decision === 'skip') {
      note(key, 'skipped', 'already delivered');
      continue;
    }
    if (decision === 'maybe-sent') {
      note(
        key,
        'maybe-sent',
        'left pending by an earlier run that stopped after handing the mail over: it may have been delivered, so it is not resent',
      );
      continue;
    }
    const result = isWebhook
      ? await sendWebhook(opts, alert, row.level)
      : await sendMail(opts, alert, row.level, row.channel.slice(EMAIL_PREFIX.length));
    if (result.ok) {
      await markDeliverySent(opts.dataDir, key, result.detail, opts.clock.now());
      opts.logger.info({ ...key, domain: alert.domain, rule: alert.rule }, 'alert delivered');
      note(key, 'sent');
    } else {
      await markDeliveryFailed(opts.dataDir, key, result.detail, opts.clock.now());
      opts.logger.error({ ...key, err: result.detail }, 'alert not delivered; tried again on the next run');
      if (isWebhook) webhookDown = result.detail;
      note(key, 'failed', result.detail);
    }
  }
  return summary;
}

async function sendMail(
  opts: AlertDeliveryOptions,
  alert: StoredAlert,
  level: number,
  to: string,
): Promise<{ ok: boolean; detail: string }> {
  const { subject, text, html } = alertMail(alert, level, opts.config.reseller.name);
  try {
    const { value } = await withRetry(
      () =>
        opts.transport.send(
          {
            from: { name: opts.config.reseller.name, address: opts.env.mailFrom },
            to: { name: '', address: to },
            subject,
            text,
            html,
            attachments: [],
            headers: {
              // The outbox names the file from this: <window day>_alert-<id>_<domain>_<to>_<stamp>.eml
              'X-Cdrpipe-Report': `alert-${alert.id};${alert.windowStart.toISOString().slice(0, 10)};${alert.domain}`,
              'X-Cdrpipe-Alert': `${alert.id}; level=${level}`,
            },
          },
          opts.signal,
        ),
      { ...DEFAULT_RETRY, ...opts.mailRetry },
      { signal: opts.signal },
    );
    return { ok: true, detail: `${value.messageId} ${value.response}` };
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    return { ok: false, detail: errorText(err) };
  }
}

async function sendWebhook(opts: AlertDeliveryOptions, alert: StoredAlert, level: number): Promise<{ ok: boolean; detail: string }> {
  const settings = opts.config.alerts.delivery.webhook!;
  const body = settings.format === 'slack' ? webhookSlackBody(alert, level) : webhookJsonBody(alert, level);
  const r = await postWebhook({ body, idempotencyKey: idempotencyKeyOf(alert, level) }, settings, {
    secret: opts.env.alertWebhookSecret,
    signal: opts.signal,
    sleep: opts.sleep,
    nowS: () => Math.floor(opts.clock.now().getTime() / 1000),
    onRetry: (detail, attempt, delayMs) =>
      opts.logger.warn({ alertId: alert.id, level, attempt, delayMs, err: detail }, 'webhook failed, retrying'),
  });
  return { ok: r.ok, detail: r.ok ? r.detail : `${r.detail} after ${r.attempts} tries` };
}
