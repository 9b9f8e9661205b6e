import { hostname as osHostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Clock } from './clock.ts';
import { systemClock } from './clock.ts';
import { CdrpipeError } from './errors.ts';
import { realSleep } from './sleep.ts';

/** What a lock file says about its holder. */
export interface LockOwner {
  pid: number;
  hostname: string;
  startedAt: string;
  /** What holds it, e.g. "scheduler" or "job monthly-reports". */
  purpose: string;
}

/** Another live process holds the lock: the message says who and what to do. */
export class LockHeldError extends CdrpipeError {
  override readonly name = 'LockHeldError';
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

/** How long a taker keeps trying while others take over the same stale lock. */
const TAKEOVER_PATIENCE_MS = 5_000;

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o.pid === 'number' && typeof o.hostname === 'string') {
      return { pid: o.pid, hostname: o.hostname, startedAt: String(o.startedAt ?? '?'), purpose: String(o.purpose ?? '?') };
    }
  } catch {
    // Unreadable content: lock files are always linked into place complete, so this is not ours to trust.
  }
  return undefined;
}

/** The lock file's text and who it names; `owner` is undefined when the text is not a lock. */
async function readLock(path: string): Promise<{ text: string; owner: LockOwner | undefined } | 'missing'> {
  try {
    const text = await readFile(path, 'utf8');
    return { text, owner: parseOwner(text) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
}

function uniqueName(path: string, pid: number, tag: string): string {
  return `${path}.${tag}.${pid}.${Date.now()}.${randomBytes(6).toString('hex')}.tmp`;
}

/** link(2) refuses an existing name: the one atomic "create if absent" that also publishes complete content. */
async function linkExclusive(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Throws LockHeldError unless the holder is a dead process of this host (or the file is unreadable). */
function refuseLiveHolder(path: string, held: LockOwner | undefined, me: LockOwner, isAlive: (pid: number) => boolean): void {
  if (!held) return;
  if (held.hostname !== me.hostname) {
    throw new LockHeldError(
      `${path} is held by pid ${held.pid} on host ${held.hostname} (${held.purpose}, since ${held.startedAt}); ` +
        `another machine shares this data directory. If that process is gone, delete ${path} and start again.`,
      held,
    );
  }
  if (held.pid === me.pid && isAlive(held.pid)) {
    throw new LockHeldError(`${path} is already held by this process (${held.purpose})`, held);
  }
  if (isAlive(held.pid)) {
    throw new LockHeldError(
      `${held.purpose} already running: pid ${held.pid} on ${held.hostname} since ${held.startedAt} holds ${path}. ` +
        `Stop it first (kill -TERM ${held.pid}), or use another data directory.`,
      held,
    );
  }
}

/**
 * Removes the stale lock whose text was `staleText`, holding `<path>.takeover` meanwhile: only a
 * guard holder ever removes a lock file, and it re-reads the file under the guard, so a lock
 * another taker created since can never be removed. Returns false when the guard is busy (the
 * caller simply tries again).
 */
async function removeStale(
  path: string,
  staleText: string,
  me: LockOwner,
  isAlive: (pid: number) => boolean,
  onStale: ((stale: LockOwner | undefined) => void) | undefined,
): Promise<boolean> {
  const guard = `${path}.takeover`;
  const aside = uniqueName(guard, me.pid, 'guard');
  await writeFile(aside, JSON.stringify(me) + '\n');
  try {
    if (!(await linkExclusive(aside, guard))) {
      const g = await readLock(guard);
      // A taker that died holding the guard (it holds it for a few system calls): move its guard
      // away under a unique name, which only one of several racing takers can do.
      if (g !== 'missing' && g.owner && g.owner.hostname === me.hostname && !isAlive(g.owner.pid)) {
        const moved = await rename(guard, aside).then(
          () => true,
          () => false,
        );
        // Another taker replaced the dead guard in between: put its live guard back.
        if (moved && (await readFile(aside, 'utf8').catch(() => g.text)) !== g.text) await linkExclusive(aside, guard);
      } else {
        await realSleep(2 + Math.random() * 10);
      }
      return false;
    }
    try {
      const now = await readLock(path);
      if (now !== 'missing' && now.text === staleText) {
        onStale?.(now.owner);
        await unlink(path);
      }
    } finally {
      await unlink(guard).catch(() => undefined);
    }
    return true;
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}

function heldLock(path: string, owner: LockOwner): HeldLock {
  let released = false;
  return {
    path,
    owner,
    release: async () => {
      if (released) return;
      released = true;
      const now = await readLock(path);
      const o = now === 'missing' ? undefined : now.owner;
      if (o && o.pid === owner.pid && o.hostname === owner.hostname && o.startedAt === owner.startedAt && o.purpose === owner.purpose) {
        await unlink(path).catch(() => undefined);
      }
    },
  };
}

/**
 * Takes an exclusive lock file. The file is written aside and hard-linked into place (link(2)
 * fails when the name exists), so it appears complete or not at all and two takers can never
 * both create it. A lock left by a dead pid on this host is taken over (see removeStale: the
 * takeover is exclusive too); a live one, or one from another host, is refused. Every lock of
 * the product (scheduler, job, ingest) is taken here.
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
  const aside = uniqueName(path, owner.pid, 'new');
  await writeFile(aside, JSON.stringify(owner) + '\n');
  const deadline = Date.now() + TAKEOVER_PATIENCE_MS;
  try {
    for (;;) {
      if (await linkExclusive(aside, path)) return heldLock(path, owner);
      const held = await readLock(path);
      if (held === 'missing') continue;
      refuseLiveHolder(path, held.owner, owner, isAlive);
      if (!(await removeStale(path, held.text, owner, isAlive, opts.onStale)) && Date.now() > deadline) {
        throw new LockHeldError(`could not take ${path}: other processes keep taking over its stale lock; try again`, held.owner);
      }
    }
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}

/** Reads who holds a lock, if anyone (for status). */
export async function lockHolder(path: string): Promise<LockOwner | undefined> {
  const o = await readLock(path);
  return o === 'missing' ? undefined : o.owner;
}
