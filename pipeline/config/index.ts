/**
 * The config stage's public surface: other stages import from here, never from its files.
 */
export { apiBaseProblem } from './api-base.ts';
export { CARRIER_NAME_PATTERN, CARRIER_PRESETS, JOB_TASKS } from './config-schema.ts';
export { carrierTermSettings } from './carrier-terms.ts';
export type { CarrierTermSettings } from './carrier-terms.ts';
export { DELIVERY_SEVERITIES, WEBHOOK_FORMATS } from './alert-delivery-schema.ts';
export type { AlertDeliverySettings, AlertWebhookSettings } from './alert-delivery-schema.ts';
export type {
  CarrierColumns,
  CarrierPreset,
  CarrierSettings,
  CdrpipeConfig,
  DeliverySettings,
  IngestSettings,
  JobDefinition,
  JobTask,
  Plan,
  ResourceSettings,
  StorageSettings,
} from './config-schema.ts';
export { BASE_PROCESS_MIB, duckdbSettings, duckdbSpillDir, resourceBudget } from './resource-budget.ts';
export type { ResourceBudget } from './resource-budget.ts';
export { readDebugFlag, readEnv, readProcessSettings, readSimulatorOAuth, readStoreEnv, withEnvVariableSync } from './env.ts';
export type { AuthConfig, EnvConfig, StoreEnv } from './env.ts';
export { lakeUrlProblem, parseLakeUrl } from './lake-url.ts';
export type { LakeLocation } from './lake-url.ts';
export { customerFor, loadConfig, resolveProjectPath } from './load-config.ts';
export type { DroppedRecipient } from './resolve-recipients.ts';
export type { StageContext } from './stage-context.ts';
export { ALERT_RULE_NAMES, FALLBACK_CLASSES, alertRuleSchemas } from './alerts-schema.ts';
export type { AlertRuleName, AlertRuleSettings, AlertRulesConfig, BusinessHours } from './alerts-schema.ts';
