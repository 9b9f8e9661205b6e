import { resolve } from 'node:path';
import { readEnv, readProcessSettings, readStoreEnv } from '../config/index.ts';
import { lakeDir } from '../lake/index.ts';
import { createLakeStore, lakeCopyBinding, useLakeStore } from '../store/index.ts';
import { ConfigError } from '../util/errors.ts';
import { createLogger } from '../util/logger.ts';
import type { LakeAccess } from './lake-access.ts';

/**
 * With CDRPIPE_LAKE_URL set, the data directory's lake lives in that bucket for this process:
 * every command's writer and readers find it by data directory (store/registry.ts). A bad URL or
 * a missing key is exit 2 here, before the command does anything. No request is made yet; the AWS
 * SDK is loaded only here, so a local lake never loads it.
 *
 * Without it, on a data directory whose lake/ is a bucket's local copy (a demo's `--s3` run, a
 * host that used to have the variable), `command` (e.g. "lake compact") is refused with exit 2 if
 * its `access` is `writes`; a reader reads the copy as last refreshed and is told on stderr that it may
 * be partial.
 */
export async function registerLakeLocation(command: string, access: Exclude<LakeAccess, 'none'>, env?: NodeJS.ProcessEnv): Promise<void> {
  const storeEnv = readStoreEnv(env);
  const dataDir = resolve(readEnv(env).dataDir);
  if (!storeEnv) {
    const bucket = await lakeCopyBinding(lakeDir(dataDir));
    if (bucket === undefined) return;
    if (access === 'writes') {
      throw new ConfigError(
        `${lakeDir(dataDir)} is the local copy of the lake in ${bucket}, not a lake of its own: what \`${command}\` wrote into it would ` +
          `never reach the bucket. Set CDRPIPE_LAKE_URL=${bucket} (and the bucket's credentials) to work on that lake, or use another CDRPIPE_DATA_DIR.`,
        'CDRPIPE_LAKE_URL',
      );
    }
    process.stderr.write(
      `cdrpipe: reading ${lakeDir(dataDir)}, the local copy of the lake in ${bucket} as last refreshed (CDRPIPE_LAKE_URL is not set); ` +
        `it may be partial. Set CDRPIPE_LAKE_URL=${bucket} to read the bucket.\n`,
    );
    return;
  }
  const logger = createLogger({ level: readProcessSettings(env).logLevel ?? 'warn' });
  useLakeStore(dataDir, await createLakeStore(storeEnv, dataDir, { logger }));
}
