import type { CdrpipeConfigInput } from './config-schema.ts';

/** Identity helper that gives jobs.config.ts full type checking and editor completion. */
export function defineConfig(config: CdrpipeConfigInput): CdrpipeConfigInput {
  return config;
}
