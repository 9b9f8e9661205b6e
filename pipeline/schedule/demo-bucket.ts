/**
 * `cdrpipe demo --s3`: the same demo with the lake in a bucket. An S3 server on 127.0.0.1 (s3rver
 * behind the store's loopback front, storing its objects under the data directory) serves one
 * bucket for the run; the data directory's lake is put in that bucket exactly as
 * CDRPIPE_LAKE_URL would put it, so every stage writes objects and reads through the local copy.
 * The server stops when the demo ends; its objects stay on disk, and the next run serves them again.
 */
import { join } from 'node:path';
import { parseLakeUrl, type StoreEnv } from '../config/index.ts';
import { createLakeStore, startLoopbackS3, useLakeStore } from '../store/index.ts';
import { runDemo, type DemoBucket, type DemoOptions, type DemoSummary } from './demo.ts';

/** The demo's bucket and prefix. */
export const DEMO_BUCKET = 'cdrpipe-demo';
export const DEMO_LAKE_URL = `s3://${DEMO_BUCKET}/lake/`;

/** The folder under the data directory where the demo's S3 server keeps its buckets. */
export function demoBucketServerDir(dataDir: string): string {
  return join(dataDir, 's3rver');
}

/** Runs the demo with `opts.dataDir`'s lake in a bucket on a loopback S3 server started for the run. */
export async function runDemoInBucket(opts: DemoOptions): Promise<DemoSummary & { bucket: DemoBucket }> {
  const serverDir = demoBucketServerDir(opts.dataDir);
  const server = await startLoopbackS3({ directory: serverDir, buckets: [DEMO_BUCKET] });
  try {
    const env: StoreEnv = {
      lake: parseLakeUrl(DEMO_LAKE_URL),
      region: 'us-east-1',
      endpoint: server.endpoint,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    };
    const store = await createLakeStore(env, opts.dataDir, { logger: opts.logger });
    useLakeStore(opts.dataDir, store);
    try {
      const summary = await runDemo(opts);
      const objects = await store.bucket.list('', opts.signal);
      return {
        ...summary,
        bucket: {
          url: store.url,
          endpoint: server.endpoint,
          serverDir,
          objects: objects.length,
          bytes: objects.reduce((a, o) => a + o.size, 0),
          cdrObjects: objects.filter((o) => o.rel.startsWith('cdrs/')).length,
          ...store.counts,
        },
      };
    } finally {
      useLakeStore(opts.dataDir, undefined);
      store.close();
    }
  } finally {
    await server.close();
  }
}
