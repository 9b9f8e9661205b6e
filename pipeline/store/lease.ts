/**
 * A lease object in the bucket: the scheduler's single-instance lock across machines. Taken with
 * If-None-Match: * (or, once the holder's lease has expired, with If-Match on the expired lease's
 * ETag, so of several standbys exactly one takes over), renewed with If-Match on the holder's own
 * ETag, released with a DELETE on that ETag. A holder whose renewal is refused has lost the lease
 * and must stop at once. Expiry is judged by the taker's clock against the time the holder wrote:
 * clocks are assumed to agree to well within the lease's length (NTP does that).
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../util/clock.ts';
import { CdrpipeError } from '../util/errors.ts';
import { CONTROL_PREFIX, type LakeStore } from './lake-store.ts';
import { StoreConflictError } from './store-errors.ts';

/** What the lease object says. */
export interface LeaseBody {
  holder: string;
  host: string;
  pid: number;
  acquiredAt: string;
  renewedAt: string;
  expiresAt: string;
}

/** Another live holder has the lease. */
export class LeaseHeldError extends CdrpipeError {
  override readonly name = 'LeaseHeldError';
  constructor(
    message: string,
    readonly current: LeaseBody | undefined,
  ) {
    super(message);
  }
}

export interface LeaseOptions {
  /** e.g. "scheduler": the object is _cdrpipe/<name>.lease under the lake's prefix. */
  name: string;
  ttlMs: number;
  clock: Clock;
  /** A name for this holder (default host:pid:random). */
  holder?: string;
}

const leaseKey = (name: string) => `${CONTROL_PREFIX}${name}.lease`;

function parseBody(body: Buffer): LeaseBody | undefined {
  try {
    const b = JSON.parse(body.toString('utf8')) as Partial<LeaseBody>;
    return typeof b.holder === 'string' && typeof b.expiresAt === 'string' ? (b as LeaseBody) : undefined;
  } catch {
    return undefined;
  }
}

export class BucketLease {
  private constructor(
    private readonly store: LakeStore,
    private readonly opts: LeaseOptions,
    private etag: string,
    readonly body: LeaseBody,
  ) {}

  /** The object's key relative to the lake's prefix. */
  get key(): string {
    return leaseKey(this.opts.name);
  }

  /** Takes the lease, or throws LeaseHeldError naming the live holder. */
  static async acquire(store: LakeStore, opts: LeaseOptions): Promise<BucketLease> {
    await store.ready();
    const key = leaseKey(opts.name);
    const holder = opts.holder ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    const now = opts.clock.now();
    const body: LeaseBody = {
      holder,
      host: hostname(),
      pid: process.pid,
      acquiredAt: now.toISOString(),
      renewedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + opts.ttlMs).toISOString(),
    };
    const bytes = Buffer.from(JSON.stringify(body) + '\n');
    const current = await store.bucket.getBytes(key);
    const held = current ? parseBody(current.body) : undefined;
    if (current && held && new Date(held.expiresAt).getTime() > now.getTime()) {
      throw new LeaseHeldError(
        `the ${opts.name} lease in ${store.url} is held by ${held.holder} (host ${held.host}) until ${held.expiresAt}; ` +
          'this one stands by until it expires or is released',
        held,
      );
    }
    try {
      const etag = await store.bucket.putBytes(key, bytes, current ? { ifMatch: current.etag } : { ifNoneMatch: '*' });
      return new BucketLease(store, opts, etag, body);
    } catch (err) {
      if (err instanceof StoreConflictError) {
        throw new LeaseHeldError(`the ${opts.name} lease in ${store.url} was taken by another process at the same moment`, undefined);
      }
      throw err;
    }
  }

  /**
   * Waits, trying every `pollMs`, until the lease is free or expired and this process takes it
   * (a standby). Rejects when `signal` aborts.
   */
  static async standBy(
    store: LakeStore,
    opts: LeaseOptions & { pollMs: number; signal?: AbortSignal; onWait?: (e: LeaseHeldError) => void },
  ): Promise<BucketLease> {
    for (;;) {
      opts.signal?.throwIfAborted();
      try {
        return await BucketLease.acquire(store, opts);
      } catch (err) {
        if (!(err instanceof LeaseHeldError)) throw err;
        opts.onWait?.(err);
      }
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, opts.pollMs);
        opts.signal?.addEventListener('abort', () => (clearTimeout(t), reject(opts.signal!.reason as Error)), { once: true });
      });
    }
  }

  /** Extends the lease; false when it was lost (another process took it over after it expired). */
  async renew(): Promise<boolean> {
    const now = this.opts.clock.now();
    const body: LeaseBody = {
      ...this.body,
      renewedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.opts.ttlMs).toISOString(),
    };
    try {
      this.etag = await this.store.bucket.putBytes(this.key, Buffer.from(JSON.stringify(body) + '\n'), { ifMatch: this.etag });
      Object.assign(this.body, body);
      return true;
    } catch (err) {
      if (err instanceof StoreConflictError) return false;
      throw err;
    }
  }

  /** Gives the lease up (only if it is still this holder's). */
  async release(): Promise<void> {
    const current = await this.store.bucket.getBytes(this.key);
    if (current && current.etag === this.etag) await this.store.bucket.remove(this.key, this.etag);
  }
}
