/**
 * What a config file imports from the package: `import { defineConfig } from 'cdrpipe'`.
 * Kept to the config's needs so that loading a config pulls in nothing else.
 */
export { defineConfig } from './config/define-config.ts';
export type { CdrpipeConfig, CdrpipeConfigInput } from './config/config-schema.ts';
