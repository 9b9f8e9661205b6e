/**
 * The config stage's public surface: other stages import from here, never from its files.
 */
export { apiBaseProblem } from './api-base.ts';
export { CARRIER_NAME_PATTERN, CARRIER_PRESETS, JOB_TASKS } from './config-schema.ts';
export type {
  CarrierColumns,
  CarrierPreset,
  CarrierSettings,
  CdrpipeConfig,
  IngestSettings,
  JobDefinition,
  JobTask,
  Plan,
} from './config-schema.ts';
export { readDebugFlag, readEnv, readProcessSettings, readSimulatorOAuth } from './env.ts';
export type { AuthConfig, EnvConfig } from './env.ts';
export { customerFor, loadConfig, resolveProjectPath } from './load-config.ts';
export type { DroppedRecipient } from './resolve-recipients.ts';
export type { StageContext } from './stage-context.ts';
