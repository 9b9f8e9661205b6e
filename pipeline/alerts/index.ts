/**
 * The alerts stage's public surface: other stages import from here, never from its files.
 */
export { ALERT_SEVERITIES } from './finding.ts';
export type { AlertEvaluation, AlertFinding, AlertMode, AlertSeverity } from './finding.ts';
export { evaluateAlerts } from './evaluate-alerts.ts';
