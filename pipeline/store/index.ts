/**
 * The store stage's public surface: the lake in an S3-compatible bucket (CDRPIPE_LAKE_URL), its
 * local copy, and the scheduler's lease. Other stages import from here, never from its files.
 */
// The SDK-bound modules (bucket.ts, s3-client.ts) are loaded by createLakeStore on first use,
// never from here: a command on a local lake does not load the AWS SDK at all.
export type { LakeBucket, ObjectInfo, WriteCondition } from './bucket.ts';
export { md5ETagOf } from './etag.ts';
export { CONTROL_PREFIX, LakeStore, lakeCopyBinding } from './lake-store.ts';
export type { LakeScope, PublishMode, PullStats } from './lake-store.ts';
export { closeLakeStores, createLakeStore, lakeStoreFor, prepareLakeForReading, useLakeStore, useLakeStoreResolver } from './registry.ts';
export { StoreConfigError, StoreConflictError, StoreError, isRetryable, storeErrorOf } from './store-errors.ts';
export { DEFAULT_STORE_RETRY, withStoreRetry } from './with-retry.ts';
export type { StoreRetrySettings } from './with-retry.ts';
export { startLoopbackS3 } from './loopback-s3.ts';
export type { FrontAction, FrontRequest, LoopbackS3, LoopbackS3Options } from './loopback-s3.ts';
export { BucketLease, LeaseHeldError } from './lease.ts';
export type { LeaseBody, LeaseOptions } from './lease.ts';
