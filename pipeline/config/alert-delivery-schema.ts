import { z } from 'zod';

/** Severities in rising order; delivery sends findings at or above `minSeverity`. */
export const DELIVERY_SEVERITIES = ['info', 'warning', 'critical'] as const;

/** The webhook body: the alert as JSON, or a Slack-compatible `{ "text": ... }` message. */
export const WEBHOOK_FORMATS = ['json', 'slack'] as const;

export const alertWebhookSchema = z.object({
  /** Where alerts are POSTed. The signing secret is never here: it comes from CDRPIPE_ALERT_WEBHOOK_SECRET. */
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://hooks.example.com/cdrpipe' }),
  format: z.enum(WEBHOOK_FORMATS).default('json'),
  /** One try gives up after this long (connect, send, and the answer). */
  timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
  /** Tries per run, the first included; what is still failing is tried again on the next run. */
  attempts: z.number().int().min(1).max(20).default(5),
  baseDelayMs: z.number().int().min(0).default(1000),
  maxDelayMs: z.number().int().min(0).default(30_000),
});
export type AlertWebhookSettings = z.infer<typeof alertWebhookSchema>;

export const alertDeliverySchema = z.object({
  /** Findings below this severity are stored and listed but not sent. */
  minSeverity: z.enum(DELIVERY_SEVERITIES).default('info'),
  email: z
    .object({
      /** Mail each alert to reseller.operatorEmail. */
      operator: z.boolean().default(true),
      /** Also mail it to the domain's own report recipients (customers.*.recipients). */
      domainContacts: z.boolean().default(false),
    })
    .default({ operator: true, domainContacts: false }),
  webhook: alertWebhookSchema.optional(),
});
export type AlertDeliverySettings = z.infer<typeof alertDeliverySchema>;
