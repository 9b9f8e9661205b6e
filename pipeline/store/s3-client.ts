import { S3Client } from '@aws-sdk/client-s3';
import { withEnvVariableSync, type StoreEnv } from '../config/index.ts';

/**
 * The S3 client for the lake's bucket. The SDK's own retries are off (the store retries with the
 * product's backoff, with-retry.ts, and so sees every throttling answer). Checksums are sent only
 * where an operation requires them: with the SDK's default a PUT body is framed as `aws-chunked`
 * with a trailing CRC, which several S3-compatible stores do not understand and store as content.
 * Integrity of single PUTs comes from Content-MD5 instead (bucket.ts).
 */
export function createS3Client(env: StoreEnv): S3Client {
  // The pinned SDK runs on Node 20 but warns on every start that later releases will not: noise on
  // every command's stderr, and nothing an operator can act on.
  return withEnvVariableSync(
    'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED',
    'true',
    () =>
      new S3Client({
        region: env.region,
        credentials: env.credentials,
        ...(env.endpoint ? { endpoint: env.endpoint, forcePathStyle: true } : {}),
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        maxAttempts: 1,
      }),
  );
}
