/**
 * The config stage's public surface: other stages import from here, never from its files.
 */
export { apiBaseProblem } from './api-base.ts';
export { JOB_TASKS } from './config-schema.ts';
export type { CdrpipeConfig, IngestSettings, JobDefinition, JobTask, Plan, StorageSettings } from './config-schema.ts';
export { readDebugFlag, readEnv, readProcessSettings, readSimulatorOAuth, readStoreEnv, withEnvVariableSync } from './env.ts';
export type { AuthConfig, EnvConfig, StoreEnv } from './env.ts';
export { lakeUrlProblem, parseLakeUrl } from './lake-url.ts';
export type { LakeLocation } from './lake-url.ts';
export { customerFor, loadConfig, resolveProjectPath } from './load-config.ts';
export type { DroppedRecipient } from './resolve-recipients.ts';
export type { StageContext } from './stage-context.ts';
