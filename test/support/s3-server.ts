/**
 * A real S3-protocol server per test file: s3rver on 127.0.0.1 (random port, temp folder) behind
 * the product's loopback front (pipeline/store/loopback-s3.ts: whole-body PUTs, conditional
 * writes, PUT answered only once the object is on disk). On top, for tests: every request is
 * counted, the next N matching requests can be answered with an injected error (503 SlowDown),
 * and a matching request can be held until the test releases it (to kill a client mid-upload).
 */
import { afterAll } from 'vitest';
import { startLoopbackS3, type FrontRequest } from '../../pipeline/store/index.ts';
import { tempDir } from './temp-dir.ts';

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** Every request so far, in order: "PUT cdrs/month=…/data.parquet". */
  requests: string[];
  /** The environment a CLI child needs for the lake at s3://<bucket>/<prefix>. */
  env(prefix?: string): Record<string, string>;
  /** Answers the next `times` requests matching `match` with `status code` instead of serving them. */
  failNext(times: number, match: (r: FrontRequest) => boolean, status?: number, code?: string): void;
  /** Holds the first request matching `match`; resolves when it arrives, with a function that lets it through. */
  holdNext(match: (r: FrontRequest) => boolean): Promise<() => void>;
  close(): Promise<void>;
}

/** Starts the server with one bucket (`lake`); it is closed when the test file is done. */
export async function startTestS3(opts: { buckets?: string[] } = {}): Promise<TestS3> {
  const buckets = opts.buckets ?? ['lake'];
  const faults: { times: number; match: (r: FrontRequest) => boolean; status: number; code: string }[] = [];
  const holds: { match: (r: FrontRequest) => boolean; arrived: (release: () => void) => void }[] = [];
  const requests: string[] = [];
  const server = await startLoopbackS3({
    directory: await tempDir('cdrpipe-s3rver-', { scope: 'file' }),
    buckets,
    intercept: (r) => {
      requests.push(`${r.method} ${r.key}${r.query.has('uploadId') ? ' (multipart)' : ''}`);
      const f = faults.find((x) => x.times > 0 && x.match(r));
      if (f) {
        f.times--;
        return { status: f.status, code: f.code };
      }
      const h = holds.findIndex((x) => x.match(r));
      if (h >= 0) {
        const [hold] = holds.splice(h, 1);
        return { hold: new Promise<void>((release) => hold!.arrived(release)) };
      }
      return undefined;
    },
  });
  const s3: TestS3 = {
    endpoint: server.endpoint,
    bucket: buckets[0]!,
    requests,
    env: (prefix = '') => ({
      CDRPIPE_LAKE_URL: `s3://${buckets[0]}/${prefix}`,
      AWS_ACCESS_KEY_ID: server.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_S3: server.endpoint,
    }),
    failNext: (times, match, status = 503, code = 'SlowDown') => void faults.push({ times, match, status, code }),
    holdNext: (match) => new Promise((arrived) => holds.push({ match, arrived })),
    close: () => server.close(),
  };
  afterAll(() => server.close());
  return s3;
}
