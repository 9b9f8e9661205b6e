/**
 * Where the lakes of this test file live: in the data directory (the default), or, under
 * `npm run test:s3`, each data directory's lake in its own prefix of one bucket on a loopback S3
 * server (test/support/lake-in-bucket.ts turns that on). In-process stages find the bucket through
 * the store's registry; CLI children get the variables from `lakeEnvFor` (test/support/cli.ts).
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';

let bucketEnv: ((prefix: string) => Record<string, string>) | undefined;

/** Puts every data directory's lake in the bucket `env` describes (undefined: back to local lakes). */
export function setTestLakeBucket(env: ((prefix: string) => Record<string, string>) | undefined): void {
  bucketEnv = env;
}

/** True while the lakes are in a bucket. */
export function lakesInBucket(): boolean {
  return bucketEnv !== undefined;
}

/** The prefix of `dataDir`'s lake in the bucket: one per data directory, as each has its own lake/. */
export function lakePrefixFor(dataDir: string): string {
  return `t/${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 16)}`;
}

/** The variables that put a CLI child's lake (for `dataDir`) in the bucket; none with local lakes. */
export function lakeEnvFor(dataDir: string | undefined): Record<string, string> {
  return bucketEnv && dataDir !== undefined ? bucketEnv(lakePrefixFor(dataDir)) : {};
}
