import { hostname as osHostname } from 'node:os';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Clock } from '../util/clock.ts';
import { systemClock } from '../util/clock.ts';

/** What a lock file says about its holder. */
export interface LockOwner {
  pid: number;
  hostname: string;
  startedAt: string;
  /** What holds it, e.g. "scheduler" or "job monthly-reports". */
  purpose: string;
}

/** Another live process holds the lock: the message says who and what to do. */
export class LockHeldError extends Error {
  override readonly name = 'LockHeldError';
  readonly exitCode = 1;
  constructor(
    message: string,
    readonly owner: LockOwner | undefined,
  ) {
    super(message);
  }
}

export interface HeldLock {
  readonly path: string;
  readonly owner: LockOwner;
  /** Removes the lock file if it is still ours. Safe to call twice. */
  release(): Promise<void>;
}

export interface LockOptions {
  purpose: string;
  clock?: Clock;
  pid?: number;
  hostname?: string;
  /** Whether a pid on this host is alive; injectable for tests. */
  isAlive?: (pid: number) => boolean;
  /** Called when a stale lock is taken over (for a log line). */
  onStale?: (stale: LockOwner | undefined) => void;
}

/** `kill(pid, 0)`: ESRCH means gone; EPERM means alive but not ours. */
export function pidIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readOwner(path: string): Promise<LockOwner | undefined | 'missing'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o.pid === 'number' && typeof o.hostname === 'string') {
      return { pid: o.pid, hostname: o.hostname, startedAt: String(o.startedAt ?? '?'), purpose: String(o.purpose ?? '?') };
    }
  } catch {
    // Unreadable content: the file is always written complete (see below), so this is not ours to trust.
  }
  return undefined;
}

/**
 * Takes an exclusive lock file. The file is written aside and hard-linked into place, so it
 * appears complete or not at all and two takers can never both win. A lock left by a dead pid
 * on this host is taken over; a live one, or one from another host, is refused.
 */
export async function acquireLock(path: string, opts: LockOptions): Promise<HeldLock> {
  const clock = opts.clock ?? systemClock;
  const owner: LockOwner = {
    pid: opts.pid ?? process.pid,
    hostname: opts.hostname ?? osHostname(),
    startedAt: clock.now().toISOString(),
    purpose: opts.purpose,
  };
  const isAlive = opts.isAlive ?? pidIsAlive;
  await mkdir(dirname(path), { recursive: true });
  const aside = `${path}.${owner.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(aside, JSON.stringify(owner) + '\n');
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(aside, path);
        let released = false;
        return {
          path,
          owner,
          release: async () => {
            if (released) return;
            released = true;
            const now = await readOwner(path);
            if (now !== 'missing' && now && now.pid === owner.pid && now.hostname === owner.hostname && now.startedAt === owner.startedAt) {
              await unlink(path).catch(() => undefined);
            }
          },
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const held = await readOwner(path);
      if (held === 'missing') continue;
      if (held && held.hostname !== owner.hostname) {
        throw new LockHeldError(
          `${path} is held by pid ${held.pid} on host ${held.hostname} (${held.purpose}, since ${held.startedAt}); ` +
            `another machine shares this data directory. If that process is gone, delete ${path} and start again.`,
          held,
        );
      }
      if (held && isAlive(held.pid) && held.pid !== owner.pid) {
        throw new LockHeldError(
          `${held.purpose} already running: pid ${held.pid} on ${held.hostname} since ${held.startedAt} holds ${path}. ` +
            `Stop it first (kill -TERM ${held.pid}), or use another data directory.`,
          held,
        );
      }
      if (held && held.pid === owner.pid && isAlive(held.pid)) {
        throw new LockHeldError(`${path} is already held by this process (${held.purpose})`, held);
      }
      // Dead holder on this host (or unreadable file): take it over, unless another taker already
      // replaced it since we read it (then the next round sees the new holder).
      const again = await readOwner(path);
      if (again !== 'missing' && JSON.stringify(again) !== JSON.stringify(held)) continue;
      opts.onStale?.(held);
      await unlink(path).catch(() => undefined);
    }
    throw new LockHeldError(`could not take ${path}: it keeps being re-created by another process`, undefined);
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}

/** Reads who holds a lock, if anyone (for status). */
export async function lockHolder(path: string): Promise<LockOwner | undefined> {
  const o = await readOwner(path);
  return o === 'missing' ? undefined : o;
}
