/**
 * The lake's bucket as a few file-level operations: list, head, download to a file, upload a
 * file (conditionally), small objects in memory (the lease), delete. Every request goes through
 * the store's retry (with-retry.ts) and error mapping (store-errors.ts).
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { LakeLocation } from '../config/index.ts';
import { asidePath, publishFile, removeQuietly } from '../util/atomic-file.ts';
import { md5ETagOf } from './etag.ts';
import { StoreError, statusOf, type StoreOp } from './store-errors.ts';
import { DEFAULT_STORE_RETRY, withStoreRetry, type StoreRetrySettings } from './with-retry.ts';

/** An object of the lake, by its key relative to the lake's prefix ("cdrs/month=…/…"). */
export interface ObjectInfo {
  rel: string;
  /** As the store sends it, quotes included: what If-Match takes back. */
  etag: string;
  size: number;
}

/**
 * A write's precondition: replace exactly this version (If-Match), create only (If-None-Match: *),
 * or none (last writer wins). Stores that ignore these headers treat every write as `none`.
 */
export type WriteCondition = { ifMatch: string } | { ifNoneMatch: '*' } | 'none';

/** Files at least this large go up as a multipart upload (lib-storage), in parts of MULTIPART_PART_BYTES. */
export const MULTIPART_MIN_BYTES = 32 * 1024 * 1024;
const MULTIPART_PART_BYTES = 16 * 1024 * 1024;

export interface LakeBucketOptions {
  /** Shown in messages when set (an S3-compatible store). */
  endpoint?: string;
  retry?: StoreRetrySettings;
  /** Files at least this large go up in parts (default MULTIPART_MIN_BYTES; S3's smallest part is 5 MiB). */
  multipartMinBytes?: number;
}

export class LakeBucket {
  private readonly retry: StoreRetrySettings;
  constructor(
    private readonly client: S3Client,
    readonly location: LakeLocation,
    private readonly opts: LakeBucketOptions = {},
  ) {
    this.retry = opts.retry ?? DEFAULT_STORE_RETRY;
  }

  /** The full key of a lake-relative one. */
  keyOf(rel: string): string {
    return this.location.prefix + rel;
  }

  private op(verb: string, rel?: string): StoreOp {
    return {
      verb,
      bucket: this.location.bucket,
      ...(rel !== undefined ? { key: this.keyOf(rel) } : {}),
      ...(this.opts.endpoint ? { endpoint: this.opts.endpoint } : {}),
    };
  }

  /** One cheap request that fails (exit 2) on wrong credentials, a missing bucket or an unreachable endpoint. */
  async check(signal?: AbortSignal): Promise<void> {
    await withStoreRetry(
      this.op('opening'),
      () => this.client.send(new HeadBucketCommand({ Bucket: this.location.bucket }), { abortSignal: signal }),
      this.retry,
      signal,
    );
  }

  /** Closes the client's connections (a command's last step: open sockets would keep the process alive). */
  close(): void {
    this.client.destroy();
  }

  /** Every object whose relative key starts with `relPrefix`. */
  async list(relPrefix: string, signal?: AbortSignal): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const page = await withStoreRetry(
        this.op('listing'),
        () =>
          this.client.send(
            new ListObjectsV2Command({ Bucket: this.location.bucket, Prefix: this.keyOf(relPrefix), ContinuationToken: token }),
            { abortSignal: signal },
          ),
        this.retry,
        signal,
      );
      for (const o of page.Contents ?? []) {
        if (!o.Key || !o.ETag) continue;
        out.push({ rel: o.Key.slice(this.location.prefix.length), etag: o.ETag, size: Number(o.Size ?? 0) });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  /** The object's ETag and size, or undefined when there is none. */
  async head(rel: string, signal?: AbortSignal): Promise<ObjectInfo | undefined> {
    try {
      const r = await withStoreRetry(
        this.op('reading', rel),
        () => this.client.send(new HeadObjectCommand({ Bucket: this.location.bucket, Key: this.keyOf(rel) }), { abortSignal: signal }),
        this.retry,
        signal,
      );
      return { rel, etag: r.ETag ?? '', size: Number(r.ContentLength ?? 0) };
    } catch (err) {
      if (statusOf((err as Error).cause) === 404) return undefined;
      throw err;
    }
  }

  /**
   * Downloads the object to `file` (written aside, then renamed: a reader never sees a part).
   * A single-part object's bytes are checked against its MD5 ETag; a mismatch is retried.
   * Returns what was downloaded, or undefined when the object is gone.
   */
  async download(rel: string, file: string, signal?: AbortSignal): Promise<ObjectInfo | undefined> {
    await mkdir(dirname(file), { recursive: true });
    try {
      return await withStoreRetry(
        this.op('reading', rel),
        async () => {
          const tmp = asidePath(file);
          try {
            const r = await this.client.send(new GetObjectCommand({ Bucket: this.location.bucket, Key: this.keyOf(rel) }), {
              abortSignal: signal,
            });
            const hash = createHash('md5');
            let size = 0;
            const tap = new Transform({
              transform(chunk: Buffer, _enc, cb) {
                hash.update(chunk);
                size += chunk.length;
                cb(null, chunk);
              },
            });
            await pipeline(r.Body as NodeJS.ReadableStream, tap, createWriteStream(tmp), { signal });
            const etag = r.ETag ?? '';
            const md5 = md5ETagOf(etag);
            if (md5 && md5 !== hash.digest('hex')) {
              // Retryable: a store that answered while the object was still being written.
              throw Object.assign(new Error(`downloaded bytes do not match ETag ${etag}`), { name: 'InternalError' });
            }
            await publishFile(tmp, file);
            return { rel, etag, size };
          } finally {
            await removeQuietly(tmp);
          }
        },
        this.retry,
        signal,
      );
    } catch (err) {
      if (statusOf((err as Error).cause) === 404) return undefined;
      throw err;
    }
  }

  /** Uploads `file` as the object; returns its new ETag. A refused condition is a StoreConflictError. */
  async upload(file: string, rel: string, condition: WriteCondition, signal?: AbortSignal): Promise<string> {
    const { size } = await stat(file);
    const cond = conditionHeaders(condition);
    return withStoreRetry(
      this.op('writing', rel),
      async () => {
        if (size >= (this.opts.multipartMinBytes ?? MULTIPART_MIN_BYTES)) {
          const up = new Upload({
            client: this.client,
            params: { Bucket: this.location.bucket, Key: this.keyOf(rel), Body: createReadStream(file), ContentLength: size, ...cond },
            partSize: Math.max(5 * 1024 * 1024, Math.min(MULTIPART_PART_BYTES, this.opts.multipartMinBytes ?? MULTIPART_PART_BYTES)),
            queueSize: 2,
            // A killed or failed upload leaves no parts behind (the object itself is untouched either way).
            leavePartsOnError: false,
            ...(signal ? { abortController: abortControllerFor(signal) } : {}),
          });
          const r = await up.done();
          return etagOrThrow(r.ETag, rel);
        }
        const body = await readFile(file);
        const md5 = createHash('md5').update(body).digest('base64');
        const r = await this.client.send(
          new PutObjectCommand({ Bucket: this.location.bucket, Key: this.keyOf(rel), Body: body, ContentMD5: md5, ...cond }),
          { abortSignal: signal },
        );
        return etagOrThrow(r.ETag, rel);
      },
      this.retry,
      signal,
    );
  }

  /** A small object's bytes and ETag (the lease), or undefined when there is none. */
  async getBytes(rel: string, signal?: AbortSignal): Promise<{ body: Buffer; etag: string } | undefined> {
    try {
      return await withStoreRetry(
        this.op('reading', rel),
        async () => {
          const r = await this.client.send(new GetObjectCommand({ Bucket: this.location.bucket, Key: this.keyOf(rel) }), {
            abortSignal: signal,
          });
          const bytes = await r.Body!.transformToByteArray();
          return { body: Buffer.from(bytes), etag: r.ETag ?? '' };
        },
        this.retry,
        signal,
      );
    } catch (err) {
      if (statusOf((err as Error).cause) === 404) return undefined;
      throw err;
    }
  }

  /** Writes a small object; returns its ETag. */
  async putBytes(rel: string, body: Buffer, condition: WriteCondition, signal?: AbortSignal): Promise<string> {
    const md5 = createHash('md5').update(body).digest('base64');
    return withStoreRetry(
      this.op('writing', rel),
      async () => {
        const r = await this.client.send(
          new PutObjectCommand({
            Bucket: this.location.bucket,
            Key: this.keyOf(rel),
            Body: body,
            ContentMD5: md5,
            ContentType: 'application/json',
            ...conditionHeaders(condition),
          }),
          { abortSignal: signal },
        );
        return etagOrThrow(r.ETag, rel);
      },
      this.retry,
      signal,
    );
  }

  /** Deletes the object (If-Match where given and the store honours it); a missing object is fine. */
  async remove(rel: string, ifMatch?: string, signal?: AbortSignal): Promise<void> {
    try {
      await withStoreRetry(
        this.op('deleting', rel),
        () =>
          this.client.send(
            new DeleteObjectCommand({ Bucket: this.location.bucket, Key: this.keyOf(rel), ...(ifMatch ? { IfMatch: ifMatch } : {}) }),
            {
              abortSignal: signal,
            },
          ),
        this.retry,
        signal,
      );
    } catch (err) {
      if (statusOf((err as Error).cause) === 404) return;
      throw err;
    }
  }
}

function conditionHeaders(c: WriteCondition): { IfMatch?: string; IfNoneMatch?: string } {
  if (c === 'none') return {};
  return 'ifMatch' in c ? { IfMatch: c.ifMatch } : { IfNoneMatch: '*' };
}

function etagOrThrow(etag: string | undefined, rel: string): string {
  if (!etag) throw new StoreError(`the store accepted ${rel} but sent no ETag; cdrpipe needs ETags to keep the lake consistent`);
  return etag;
}

function abortControllerFor(signal: AbortSignal): AbortController {
  const c = new AbortController();
  if (signal.aborted) c.abort(signal.reason);
  else signal.addEventListener('abort', () => c.abort(signal.reason), { once: true });
  return c;
}
