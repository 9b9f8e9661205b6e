/**
 * The source stage's public surface: other stages import from here, never from its files.
 */
export { normalizeCdrId } from './cdr-id.ts';
export { createSourceFromEnv } from './from-env.ts';
export { objectArraySpans, splitJsonArray } from './json-array-split.ts';
export { NetSapiensClient } from './netsapiens-client.ts';
export { NetSapiensHttpError } from './source-errors.ts';
export { ALL_DOMAINS } from './types.ts';
export type { CdrCount, CdrPage, CdrSource, CredentialScope, DomainInfo, RejectedRecord, SourceStats, TimeWindow } from './types.ts';
