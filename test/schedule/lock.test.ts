import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { acquireLock, lockHolder, LockHeldError } from '../../pipeline/util/lock.ts';
import { acquireIngestLock, workRoot } from '../../pipeline/extract/work-dir.ts';
import { tempDir } from '../support/temp-dir.ts';

/** A pid that surely does not exist any more: a child that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

describe('single-instance lock', () => {
  it('refuses a second holder with a message naming the first, and frees on release', async () => {
    const tmp = await tempDir();
    const path = join(tmp, 'locks', 'scheduler.lock');
    const first = await acquireLock(path, { purpose: 'scheduler' });
    const owner = JSON.parse(await readFile(path, 'utf8'));
    expect(owner).toMatchObject({ pid: process.pid, hostname: hostname(), purpose: 'scheduler' });
    // Another live process (pretend pid) on this host:
    await first.release();
    const other = await acquireLock(path, { purpose: 'scheduler', pid: process.ppid });
    const err = await acquireLock(path, { purpose: 'scheduler' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockHeldError);
    expect((err as Error).message).toMatch(new RegExp(`scheduler already running: pid ${process.ppid} on `));
    await other.release();
    expect(await lockHolder(path)).toBeUndefined();
    const again = await acquireLock(path, { purpose: 'scheduler' });
    await again.release();
  });

  it('takes over a stale lock whose pid is gone on this host', async () => {
    const tmp = await tempDir();
    const path = join(tmp, 'locks', 'scheduler.lock');
    const pid = await deadPid();
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, JSON.stringify({ pid, hostname: hostname(), startedAt: '2026-01-01T00:00:00.000Z', purpose: 'scheduler' }));
    const stale: unknown[] = [];
    const lock = await acquireLock(path, { purpose: 'scheduler', onStale: (o) => stale.push(o) });
    expect(stale).toHaveLength(1);
    expect((await lockHolder(path))?.pid).toBe(process.pid);
    await lock.release();
  });

  it('refuses a lock held from another host even if that pid is not alive here', async () => {
    const tmp = await tempDir();
    const path = join(tmp, 'scheduler.lock');
    await writeFile(path, JSON.stringify({ pid: await deadPid(), hostname: 'other-host', startedAt: 'x', purpose: 'scheduler' }));
    await expect(acquireLock(path, { purpose: 'scheduler' })).rejects.toThrow(/on host other-host .*delete .*scheduler\.lock/);
  });

  it('lets exactly one of many concurrent takers win', async () => {
    const tmp = await tempDir();
    const path = join(tmp, 'job.lock');
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => acquireLock(path, { purpose: `job ${i}`, pid: process.pid, isAlive: () => true })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('over a stale lock, exactly one of many concurrent takers wins, trial after trial', async () => {
    const tmp = await tempDir();
    const path = join(tmp, 'locks', 'job.lock');
    await mkdir(dirname(path), { recursive: true });
    const stalePid = await deadPid();
    const stale = JSON.stringify({ pid: stalePid, hostname: hostname(), startedAt: '2026-01-01T00:00:00.000Z', purpose: 'job gone' });
    // Every taker has its own (pretend) live pid; only the stale holder is dead.
    const isAlive = (pid: number) => pid !== stalePid;
    const winnersPerTrial: number[] = [];
    for (let trial = 0; trial < 150; trial++) {
      await writeFile(path, stale);
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) => acquireLock(path, { purpose: `job ${i}`, pid: 1_000_000 + trial * 10 + i, isAlive })),
      );
      const won = results.filter((r): r is PromiseFulfilledResult<Awaited<ReturnType<typeof acquireLock>>> => r.status === 'fulfilled');
      winnersPerTrial.push(won.length);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(LockHeldError);
      // The one winner is the one the file names.
      if (won.length === 1) expect((await lockHolder(path))?.pid).toBe(won[0]!.value.owner.pid);
      for (const w of won) await w.value.release();
    }
    expect(winnersPerTrial.filter((n) => n !== 1)).toEqual([]);
    // No guard or aside files are left behind.
    expect((await readdir(dirname(path))).sort()).toEqual([]);
  });

  it("an ingest over a dead ingest's lock takes it; a live one is refused naming its pid", async () => {
    const tmp = await tempDir();
    const lockPath = join(workRoot(tmp), 'ingest.lock');
    await mkdir(dirname(lockPath), { recursive: true });
    await writeFile(lockPath, JSON.stringify({ pid: await deadPid(), hostname: hostname(), startedAt: 'x', purpose: 'ingest' }));
    const release = await acquireIngestLock(tmp);
    expect((await lockHolder(lockPath))?.pid).toBe(process.pid);
    await expect(acquireIngestLock(tmp)).rejects.toThrow(new RegExp(`another ingest \\(pid ${process.pid}\\) is writing`));
    await release();
    expect(await lockHolder(lockPath)).toBeUndefined();
  });
});
