/**
 * The alerts stage's public surface: other stages import from here, never from its files.
 */
export { ALERT_SEVERITIES } from './finding.ts';
export type { AlertEvaluation, AlertFinding, AlertMode, AlertSeverity } from './finding.ts';
export { evaluateAlerts } from './evaluate-alerts.ts';
export { alertIdOf, normalizeAmount } from './alert-identity.ts';
export { ackAlert, listAlerts, readAlertCursor, readAlertPosition, recordEvaluation } from './alert-store.ts';
export type { AlertPosition, StoredAlert } from './alert-store.ts';
export { countUndelivered } from './deliver-log.ts';
export { alertJson, formatAlertTable, windowLabel } from './alert-format.ts';
export type { AlertJson } from './alert-format.ts';
export { alertChannels, deliverAlerts } from './deliver-alerts.ts';
export { describeAlertRun, runAlerts } from './alert-task.ts';
export type { AlertRunSummary } from './alert-task.ts';
export { signWebhook, verifyWebhook, IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './webhook-signature.ts';
