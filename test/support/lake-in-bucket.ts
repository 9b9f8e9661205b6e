/**
 * Setup file of `npm run test:s3` (vitest.s3.config.ts): the test file runs with every lake in a
 * bucket. One S3 server per test file; each data directory's lake gets its own prefix, so data
 * directories stay as separate as they are on disk.
 */
import { afterAll } from 'vitest';
import { readStoreEnv } from '../../pipeline/config/index.ts';
import { LakeStore, useLakeStoreResolver } from '../../pipeline/store/index.ts';
import { LakeBucket } from '../../pipeline/store/bucket.ts';
import { createS3Client } from '../../pipeline/store/s3-client.ts';
import { startTestS3 } from './s3-server.ts';
import { lakePrefixFor, setTestLakeBucket } from './test-lake.ts';

const s3 = await startTestS3();
const made: LakeStore[] = [];
setTestLakeBucket((prefix) => s3.env(prefix));
useLakeStoreResolver((dataDir) => {
  const env = readStoreEnv(s3.env(lakePrefixFor(dataDir)))!;
  const store = new LakeStore(new LakeBucket(createS3Client(env), env.lake, { endpoint: env.endpoint }), dataDir);
  made.push(store);
  return store;
});
afterAll(() => {
  useLakeStoreResolver(undefined);
  setTestLakeBucket(undefined);
  for (const s of made.splice(0)) s.close();
});
