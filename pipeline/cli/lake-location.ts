import { resolve } from 'node:path';
import { readEnv, readProcessSettings, readStoreEnv } from '../config/index.ts';
import { createLakeStore, useLakeStore } from '../store/index.ts';
import { createLogger } from '../util/logger.ts';

/**
 * With CDRPIPE_LAKE_URL set, the data directory's lake lives in that bucket for this process:
 * every command's writer and readers find it by data directory (store/registry.ts). A bad URL or
 * a missing key is exit 2 here, before the command does anything. No request is made yet; the AWS
 * SDK is loaded only here, so a local lake never loads it.
 */
export async function registerLakeLocation(env?: NodeJS.ProcessEnv): Promise<void> {
  const storeEnv = readStoreEnv(env);
  if (!storeEnv) return;
  const dataDir = resolve(readEnv(env).dataDir);
  const logger = createLogger({ level: readProcessSettings(env).logLevel ?? 'warn' });
  useLakeStore(dataDir, await createLakeStore(storeEnv, dataDir, { logger }));
}
