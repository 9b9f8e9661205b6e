/** The source layer's public surface: import from here rather than from the modules behind it. */
export type { CallOptions, CdrCount, CdrPage, CdrSource, CallDirection, DomainInfo, ParsedCdr, RejectedRecord, SourceStats, TimeWindow } from './types.ts';
export { CALL_DIRECTIONS } from './types.ts';
export { NetSapiensClient, MAX_PAGE_SIZE, domainPath, windowQuery, type NetSapiensClientOptions } from './netsapiens-client.ts';
export { createSourceFromEnv, type SourceFromEnvOptions } from './from-env.ts';
export { parseNsDatetime, formatNsDatetime, type ParseDatetimeOptions } from './ns-datetime.ts';
export { parseRetryAfter, parseHttpDate, RETRY_REASONS, type RetryReason } from './retry-policy.ts';
export { fullJitterDelay } from '../util/backoff.ts';
export { validateCdr, cdrRecordSchema, type CdrVerdict } from './cdr-record.ts';
export { parseCdrPage, type PageContext } from './cdr-page.ts';
export { NetSapiensHttpError, NetSapiensBodyError, NetSapiensTransportError } from './source-errors.ts';
export { DEFAULT_RETRY, type RetrySettings } from './http-transport.ts';
export type { SleepFn } from '../util/sleep.ts';
