/**
 * The scheduler's lock across machines: two schedulers with their own data directories (two
 * hosts) and one lake bucket. One holds the lease; the other stands by and takes over only once
 * the holder is gone (released, or its lease expired); of two takers exactly one wins.
 */
import { describe, expect, it } from 'vitest';
import { readStoreEnv } from '../../pipeline/config/index.ts';
import { startScheduler } from '../../pipeline/schedule/scheduler.ts';
import { BucketLease, LeaseHeldError, createLakeStore, useLakeStore, type LakeStore } from '../../pipeline/store/index.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { startTestS3 } from '../support/s3-server.ts';
import { tempDir } from '../support/temp-dir.ts';
import { testConfig } from '../support/test-config.ts';
import { standInRegistry, testEnv } from '../schedule/helpers.ts';

const s3 = await startTestS3();

async function host(prefix: string): Promise<{ dataDir: string; store: LakeStore }> {
  const dataDir = await tempDir();
  const store = await createLakeStore(readStoreEnv(s3.env(prefix))!, dataDir);
  useLakeStore(dataDir, store);
  return { dataDir, store };
}

describe('the scheduler lease in the bucket', () => {
  it('is held by one; a second is refused until it expires; of two takers of an expired lease one wins; a lost lease cannot be renewed', async () => {
    const [a, b, c] = await Promise.all([host('lease1'), host('lease1'), host('lease1')]);
    const t0 = new Date('2026-12-01T00:00:00Z');
    const opts = (clock: FixedClock) => ({ name: 'scheduler', ttlMs: 30_000, clock });
    const held = await BucketLease.acquire(a.store, opts(new FixedClock(t0)));
    await expect(BucketLease.acquire(b.store, opts(new FixedClock(new Date(t0.getTime() + 29_000))))).rejects.toBeInstanceOf(
      LeaseHeldError,
    );
    // The holder died: 31 s later both standbys try at once.
    const later = new FixedClock(new Date(t0.getTime() + 31_000));
    const results = await Promise.allSettled([BucketLease.acquire(b.store, opts(later)), BucketLease.acquire(c.store, opts(later))]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(LeaseHeldError);
    // The old holder comes back: its renewal is refused, so it knows to stop.
    expect(await held.renew()).toBe(false);
    const winner = (results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<BucketLease>).value;
    expect(await winner.renew()).toBe(true);
    await winner.release();
    await held.release(); // not its lease any more: changes nothing
    const next = await BucketLease.acquire(a.store, opts(later));
    await next.release();
  });

  it('two schedulers on one bucket: the second stands by and starts when the first stops', async () => {
    const [a, b] = await Promise.all([host('lease2'), host('lease2')]);
    const clock = new FixedClock(new Date('2026-12-10T12:00:00Z'));
    const base = (dataDir: string) => ({
      dataDir,
      config: { ...testConfig(), storage: { cacheMaxMiB: 4096, leaseSeconds: 10 } },
      env: testEnv(dataDir),
      clock,
      logger: silentLogger(),
      timers: false,
      catchUp: false,
      registry: standInRegistry(),
    });
    const first = await startScheduler(base(a.dataDir));
    await expect(startScheduler(base(b.dataDir))).rejects.toBeInstanceOf(LeaseHeldError);
    let started = false;
    const standby = startScheduler({ ...base(b.dataDir), standby: true }).then((s) => {
      started = true;
      return s;
    });
    // While the first runs, the standby keeps waiting (it polls every third of the 10 s lease).
    await new Promise((r) => setTimeout(r, 300));
    expect(started).toBe(false);
    await first.stop('test');
    // The lease is released on stop; the standby's next poll takes it.
    const second = await standby;
    expect(started).toBe(true);
    await second.stop('test');
  }, 60_000);
});
