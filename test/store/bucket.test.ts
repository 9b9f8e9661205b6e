import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readStoreEnv } from '../../pipeline/config/index.ts';
import { ConfigError, EXIT, exitCodeOf } from '../../pipeline/util/errors.ts';
import { StoreConfigError, StoreConflictError } from '../../pipeline/store/index.ts';
import { LakeBucket } from '../../pipeline/store/bucket.ts';
import { createS3Client } from '../../pipeline/store/s3-client.ts';
import { startTestS3 } from '../support/s3-server.ts';
import { tempDir } from '../support/temp-dir.ts';

const s3 = await startTestS3();
const fastRetry = { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 };

function bucketFor(env: Record<string, string>, extra: { multipartMinBytes?: number } = {}): LakeBucket {
  const e = readStoreEnv(env)!;
  return new LakeBucket(createS3Client(e), e.lake, { endpoint: e.endpoint, retry: fastRetry, ...extra });
}

describe('CDRPIPE_LAKE_URL and the AWS variables', () => {
  it('parse into bucket, prefix, region and a path-style endpoint', () => {
    const e = readStoreEnv({ ...s3.env('team/cdr-lake'), AWS_REGION: 'eu-west-1' })!;
    expect(e.lake).toEqual({ bucket: 'lake', prefix: 'team/cdr-lake/', url: 's3://lake/team/cdr-lake/' });
    expect(e.region).toBe('eu-west-1');
    expect(e.endpoint).toBe(s3.endpoint);
    expect(readStoreEnv({})).toBeUndefined();
  });

  it('refuse a bad URL or missing keys with exit 2 naming the variable, never echoing the secret', () => {
    for (const url of ['http://lake/x', 's3://', 's3://Bad_Bucket/x', 's3://lake/../x', 's3://lake/x?versionId=1']) {
      const err = (() => {
        try {
          readStoreEnv({ ...s3.env(), CDRPIPE_LAKE_URL: url });
        } catch (e) {
          return e;
        }
      })();
      expect(err, url).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).field).toBe('CDRPIPE_LAKE_URL');
    }
    expect(() => readStoreEnv({ CDRPIPE_LAKE_URL: 's3://lake/x', AWS_SECRET_ACCESS_KEY: 'very-secret-value' })).toThrow(
      /AWS_ACCESS_KEY_ID/,
    );
  });
});

describe('the bucket adapter against a real S3 server', () => {
  it('uploads, lists, heads and downloads; the downloaded bytes are the uploaded ones', async () => {
    const dir = await tempDir();
    const b = bucketFor(s3.env('adapter'));
    const src = join(dir, 'a.parquet');
    await writeFile(src, 'PAR1 some bytes PAR1');
    const etag = await b.upload(src, 'cdrs/month=2026-10/domain=a/data.parquet', { ifNoneMatch: '*' });
    expect(await b.list('cdrs/')).toEqual([{ rel: 'cdrs/month=2026-10/domain=a/data.parquet', etag, size: 20 }]);
    expect((await b.head('cdrs/month=2026-10/domain=a/data.parquet'))?.etag).toBe(etag);
    expect(await b.head('cdrs/nothing')).toBeUndefined();
    const out = join(dir, 'copy', 'b.parquet');
    expect((await b.download('cdrs/month=2026-10/domain=a/data.parquet', out))?.etag).toBe(etag);
    expect(await readFile(out, 'utf8')).toBe('PAR1 some bytes PAR1');
  });

  it('conditional writes: a create over an existing object and a write over a changed one are refused', async () => {
    const dir = await tempDir();
    const b = bucketFor(s3.env('cond'));
    const f = join(dir, 'f');
    await writeFile(f, 'one');
    const first = await b.upload(f, 'k', { ifNoneMatch: '*' });
    await expect(b.upload(f, 'k', { ifNoneMatch: '*' })).rejects.toBeInstanceOf(StoreConflictError);
    await writeFile(f, 'two');
    const second = await b.upload(f, 'k', { ifMatch: first });
    await writeFile(f, 'three');
    const err = await b.upload(f, 'k', { ifMatch: first }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreConflictError);
    expect(exitCodeOf(err)).toBe(EXIT.failure);
    expect((await b.getBytes('k'))?.body.toString()).toBe('two');
    expect((await b.head('k'))?.etag).toBe(second);
  });

  it('retries 503 SlowDown with backoff, then succeeds', async () => {
    const dir = await tempDir();
    const b = bucketFor(s3.env('slow'));
    const f = join(dir, 'f');
    await writeFile(f, 'body');
    s3.failNext(2, (r) => r.method === 'PUT' && r.key === 'slow/x');
    const before = s3.requests.filter((r) => r === 'PUT slow/x').length;
    await b.upload(f, 'x', 'none');
    expect(s3.requests.filter((r) => r === 'PUT slow/x').length - before).toBe(3);
    expect((await b.getBytes('x'))?.body.toString()).toBe('body');
  });

  it('gives up after its tries on endless throttling, with the key in the message', async () => {
    const b = bucketFor(s3.env('slow2'));
    s3.failNext(10, (r) => r.key === 'slow2/y');
    await expect(b.getBytes('y')).rejects.toThrow(/s3:\/\/lake\/slow2\/y.*SlowDown/);
  });

  it('a large file goes up in parts', async () => {
    const dir = await tempDir();
    const b = bucketFor(s3.env('big'), { multipartMinBytes: 5 * 1024 * 1024 });
    const f = join(dir, 'big.parquet');
    const body = Buffer.alloc(11 * 1024 * 1024, 7);
    await writeFile(f, body);
    // Real stores answer a multipart ETag "<md5 of part md5s>-3"; s3rver a plain MD5, so the requests tell.
    await b.upload(f, 'big.parquet', { ifNoneMatch: '*' });
    expect(s3.requests.some((r) => r.startsWith('PUT big/big.parquet (multipart)'))).toBe(true);
    const out = join(dir, 'back');
    await b.download('big.parquet', out);
    expect((await readFile(out)).equals(body)).toBe(true);
  });

  it('wrong credentials and a missing bucket are configuration errors (exit 2) that name what to fix', async () => {
    const wrong = bucketFor({ ...s3.env('x'), AWS_ACCESS_KEY_ID: 'NOT-A-KEY', AWS_SECRET_ACCESS_KEY: 'wrong-secret-123' });
    const err = await wrong.check().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreConfigError);
    expect(exitCodeOf(err)).toBe(EXIT.usage);
    // A HEAD answer carries no error code, so the store names the status instead.
    expect((err as Error).message).toMatch(/\((InvalidAccessKeyId|HTTP 403)\).*AWS_ACCESS_KEY_ID/);
    expect((err as Error).message).not.toContain('wrong-secret-123');
    const missing = bucketFor({ ...s3.env('x'), CDRPIPE_LAKE_URL: 's3://no-such-bucket/x' });
    const err2 = await missing.check().catch((e: unknown) => e);
    expect(exitCodeOf(err2)).toBe(EXIT.usage);
    expect((err2 as Error).message).toMatch(/bucket "no-such-bucket" does not exist/);
  });
});
