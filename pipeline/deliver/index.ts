/**
 * The deliver stage's public surface: other stages import from here, never from its files.
 */
export { createTransportFromEnv } from './create-transport.ts';
export { deliver } from './deliver.ts';
export type { DeliveryItem, DeliverySummary } from './deliver.ts';
export type { MailTransport, OutgoingMail } from './mail-transport.ts';
export { noteDroppedRecipients } from './recipient-anomalies.ts';
export { DEFAULT_RETRY, withRetry } from './retry.ts';
export { smtpConnectionsFor } from './smtp-transport.ts';
export type { RetryOptions } from './retry.ts';
