/**
 * Which data directories keep their lake in a bucket. The lake's location is a property of the
 * data directory for the life of the process (like the data directory itself, it comes from the
 * environment once, at start), so the CLI registers it here and the writer and readers look it
 * up by data directory instead of every stage passing it along.
 */
import { resolve } from 'node:path';
import type { StageContext, StoreEnv } from '../config/index.ts';
import type { Logger } from '../util/logger.ts';
import { LakeStore, type LakeScope, type PullStats } from './lake-store.ts';
import type { StoreRetrySettings } from './with-retry.ts';

const stores = new Map<string, LakeStore>();
let resolver: ((dataDir: string) => LakeStore | undefined) | undefined;

/**
 * Builds the store for `dataDir` from the environment's settings (no request is made yet). The
 * AWS SDK is loaded here, on first use: a process with a local lake never loads it (it is most
 * of a command's start-up time).
 */
export async function createLakeStore(
  env: StoreEnv,
  dataDir: string,
  opts: { logger?: Logger; retry?: StoreRetrySettings } = {},
): Promise<LakeStore> {
  const [{ LakeBucket }, { createS3Client }] = await Promise.all([import('./bucket.ts'), import('./s3-client.ts')]);
  const bucket = new LakeBucket(createS3Client(env), env.lake, {
    ...(env.endpoint ? { endpoint: env.endpoint } : {}),
    ...(opts.retry ? { retry: opts.retry } : {}),
  });
  return new LakeStore(bucket, resolve(dataDir), { ...(opts.logger ? { logger: opts.logger } : {}) });
}

/** Puts `dataDir`'s lake in the store's bucket (undefined: back to the local lake). */
export function useLakeStore(dataDir: string, store: LakeStore | undefined): void {
  if (store) stores.set(resolve(dataDir), store);
  else stores.delete(resolve(dataDir));
}

/** Closes every registered store's connections (the CLI's last step). */
export function closeLakeStores(): void {
  for (const s of stores.values()) s.close();
}

/**
 * For a process that works on many data directories it does not know in advance (a test run that
 * keeps every lake in a bucket): `resolve` is asked for each data directory without a registered
 * store, once; what it answers is kept. Undefined removes it.
 */
export function useLakeStoreResolver(resolveStore: ((dataDir: string) => LakeStore | undefined) | undefined): void {
  resolver = resolveStore;
}

/** The store `dataDir`'s lake lives in, or undefined for a local lake. */
export function lakeStoreFor(dataDir: string): LakeStore | undefined {
  const key = resolve(dataDir);
  const known = stores.get(key);
  if (known || !resolver) return known;
  const found = resolver(key);
  if (found) stores.set(key, found);
  return found;
}

/**
 * The one step a reader takes before it opens the lake's files: with the lake in a bucket, the
 * local copy of `scope` is brought up to date (and trimmed to `storage.cacheMaxMiB`); with a local
 * lake, nothing. Returns what the pull did, or undefined for a local lake.
 */
export async function prepareLakeForReading(
  ctx: Pick<StageContext, 'dataDir' | 'signal'> & { config?: Pick<StageContext['config'], 'storage'> },
  scope: LakeScope = {},
): Promise<PullStats | undefined> {
  const store = lakeStoreFor(ctx.dataDir);
  if (!store) return undefined;
  const maxMiB = ctx.config?.storage?.cacheMaxMiB;
  return store.pull(scope, { ...(maxMiB ? { maxBytes: maxMiB * 1024 * 1024 } : {}), ...(ctx.signal ? { signal: ctx.signal } : {}) });
}
