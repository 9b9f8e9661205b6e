/**
 * The source stage's public surface: other stages import from here, never from its files.
 */
export { normalizeCdrId } from './cdr-id.ts';
export { createSourceFromEnv } from './from-env.ts';
export { splitJsonArray } from './json-array-split.ts';
export { NetSapiensClient } from './netsapiens-client.ts';
export type { CdrCount, CdrPage, CdrSource, DomainInfo, RejectedRecord, SourceStats, TimeWindow } from './types.ts';
