import { resolve } from 'node:path';
import { readEnv, readProcessSettings, readStoreEnv } from '../config/index.ts';
import { lakeDir } from '../lake/index.ts';
import { createLakeStore, lakeCopyBinding, useLakeStore } from '../store/index.ts';
import { ConfigError } from '../util/errors.ts';
import { createLogger } from '../util/logger.ts';

/**
 * With CDRPIPE_LAKE_URL set, the data directory's lake lives in that bucket for this process:
 * every command's writer and readers find it by data directory (store/registry.ts). A bad URL or
 * a missing key is exit 2 here, before the command does anything. No request is made yet; the AWS
 * SDK is loaded only here, so a local lake never loads it. Without it, a data directory whose lake/
 * is a bucket's local copy is refused (exit 2): the copy may be partial, and what a command wrote
 * into it would never reach the bucket.
 */
export async function registerLakeLocation(env?: NodeJS.ProcessEnv): Promise<void> {
  const storeEnv = readStoreEnv(env);
  const dataDir = resolve(readEnv(env).dataDir);
  if (!storeEnv) {
    const bucket = await lakeCopyBinding(lakeDir(dataDir));
    if (bucket === undefined) return;
    throw new ConfigError(
      `${lakeDir(dataDir)} is the local copy of the lake in ${bucket}, not a lake of its own: it may be partial, and nothing written ` +
        `into it reaches the bucket. Set CDRPIPE_LAKE_URL=${bucket} (and the bucket's credentials) to work on that lake, or use another CDRPIPE_DATA_DIR.`,
      'CDRPIPE_LAKE_URL',
    );
  }
  const logger = createLogger({ level: readProcessSettings(env).logLevel ?? 'warn' });
  useLakeStore(dataDir, await createLakeStore(storeEnv, dataDir, { logger }));
}
