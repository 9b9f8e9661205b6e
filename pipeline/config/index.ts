/**
 * The config stage's public surface: other stages import from here, never from its files.
 */
export { apiBaseProblem } from './api-base.ts';
export { JOB_TASKS } from './config-schema.ts';
export type { CdrpipeConfig, DeliverySettings, IngestSettings, JobDefinition, JobTask, Plan, ResourceSettings } from './config-schema.ts';
export { BASE_PROCESS_MIB, duckdbSettings, duckdbSpillDir, resourceBudget } from './resource-budget.ts';
export type { ResourceBudget } from './resource-budget.ts';
export { readDebugFlag, readEnv, readProcessSettings, readSimulatorOAuth } from './env.ts';
export type { AuthConfig, EnvConfig } from './env.ts';
export { customerFor, loadConfig, resolveProjectPath } from './load-config.ts';
export type { DroppedRecipient } from './resolve-recipients.ts';
export type { StageContext } from './stage-context.ts';
