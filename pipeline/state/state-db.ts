import { existsSync, readFileSync } from 'node:fs';
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Db } from '../db/duckdb.ts';
import { statePath } from './state-path.ts';
import { realSleep } from '../util/sleep.ts';

const schemaSql = readFileSync(fileURLToPath(new URL('./schema.sql', import.meta.url)), 'utf8');

/** Files whose schema this process has applied. */
const migrated = new Set<string>();

const LOCK_RETRY_MS = 50;
const LOCK_TIMEOUT_MS = 30_000;

function isLockConflict(err: unknown): boolean {
  const msg = err instanceof Error ? err.message : String(err);
  return /lock|Conflicting|being used|Could not set lock/i.test(msg);
}

/**
 * Opens state.duckdb, applies the schema, runs `fn`, closes. Another process holding the file
 * (a short write of the scheduler) is waited for, not treated as an error.
 *
 * `readOnly` changes nothing under the data directory: no directory is created, no schema is
 * applied, nothing is checkpointed, and the file is opened read-only (a WAL left by a killed
 * writer is replayed in memory and left where it is), so it works on a read-only data directory
 * and on a full disk. The file must exist.
 */
export async function withState<T>(
  dataDir: string,
  fn: (db: Db) => Promise<T>,
  opts: { readOnly?: boolean; signal?: AbortSignal } = {},
): Promise<T> {
  if (!opts.readOnly) await mkdir(dataDir, { recursive: true });
  // One open at a time per file within this process: two DuckDB instances of one file in one
  // process are not excluded by the OS file lock, and their WAL handling then collides
  // ("Cannot open file state.duckdb.wal"). Re-entrant calls (withState inside withState) pass.
  const key = resolve(statePath(dataDir));
  return serialized(key, () => (holds.has(key) ? runKept(key, dataDir, fn, opts) : openRunClose(dataDir, fn, opts)));
}

/** A run's claim on keeping state.duckdb open between its writes (holdState). */
export interface StateHold {
  /** Folds the WAL into the file and closes it, once the last hold of the file is released. */
  release(): Promise<void>;
}

/** An open left open between writes, while a hold lasts: unused this long, it is closed. */
const STATE_HOLD_IDLE_MS = 1_000;
/** ...and after this long open it is closed before the next write, so another process gets its turn (its wait is 30 s at most). */
const STATE_HOLD_MAX_MS = 5_000;
/** What a forced close waits before the next open: every waiting process tries again within 100 ms. */
const STATE_HOLD_YIELD_MS = 3 * LOCK_RETRY_MS;

/** Active holds per state file. */
const holds = new Map<string, number>();
/** The open kept per state file while it is held, with when it was opened and its idle timer. */
const kept = new Map<string, { db: Db; openedAt: number; idle?: NodeJS.Timeout }>();

/**
 * Keeps state.duckdb open between this process's uses of it (withState) until `release`, when a
 * run makes many small writes in a row (a report run's send-log claims and records): an open with
 * its closing checkpoint costs ~100 ms of CPU, a committed write on an open file a few ms. Each
 * write is as durable as before: DuckDB flushes its write-ahead log to disk at every COMMIT, and
 * a crash leaves the committed writes there for the next open to replay. Other processes wait for
 * the file as they do for any open: it is let go after STATE_HOLD_IDLE_MS without use (so it is
 * not held through a long SMTP conversation) and at least every STATE_HOLD_MAX_MS.
 */
export function holdState(dataDir: string): StateHold {
  const key = resolve(statePath(dataDir));
  holds.set(key, (holds.get(key) ?? 0) + 1);
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      const n = (holds.get(key) ?? 1) - 1;
      if (n > 0) {
        holds.set(key, n);
        return;
      }
      holds.delete(key);
      await held.exit(() => serialized(key, () => closeKept(key)));
    },
  };
}

async function closeKept(key: string): Promise<void> {
  const k = kept.get(key);
  if (!k) return;
  kept.delete(key);
  clearTimeout(k.idle);
  await checkpointAndClose(k.db);
}

/** withState's body while the file is held: the kept open (opened when there is none, or reopened when held too long), no close. */
async function runKept<T>(key: string, dataDir: string, fn: (db: Db) => Promise<T>, opts: { signal?: AbortSignal }): Promise<T> {
  let k = kept.get(key);
  if (k && Date.now() - k.openedAt > STATE_HOLD_MAX_MS) {
    await closeKept(key);
    await realSleep(STATE_HOLD_YIELD_MS);
    k = undefined;
  }
  if (!k) {
    const existedBefore = existsSync(statePath(dataDir));
    await mkdir(dataDir, { recursive: true });
    const db = await openWaiting(dataDir, false, opts.signal);
    try {
      await migrate(db, existedBefore);
    } catch (err) {
      db.close();
      throw err;
    }
    k = { db, openedAt: Date.now() };
    kept.set(key, k);
  }
  clearTimeout(k.idle);
  let result: T;
  try {
    result = await fn(k.db);
  } catch (err) {
    // A failed write may leave the connection in any state: the next use starts from a fresh open.
    await closeKept(key);
    throw err;
  }
  // The timer runs outside this turn's context: its close waits for the queue like any other use.
  const entry = k;
  entry.idle = held.exit(() =>
    setTimeout(() => {
      if (kept.get(key) === entry) void serialized(key, () => (kept.get(key) === entry ? closeKept(key) : Promise.resolve()));
    }, STATE_HOLD_IDLE_MS),
  );
  entry.idle.unref();
  return result;
}

const queues = new Map<string, Promise<void>>();
const held = new AsyncLocalStorage<ReadonlySet<string>>();

async function serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const mine = held.getStore();
  if (mine?.has(key)) return fn();
  const prev = queues.get(key) ?? Promise.resolve();
  let release!: () => void;
  const turn = new Promise<void>((r) => (release = r));
  const tail = prev.then(() => turn);
  queues.set(key, tail);
  await prev;
  try {
    return await held.run(new Set([...(mine ?? []), key]), fn);
  } finally {
    release();
    if (queues.get(key) === tail) queues.delete(key);
  }
}

/** Opens the state file, waiting (up to LOCK_TIMEOUT_MS) while another process holds it. */
async function openWaiting(dataDir: string, readOnly: boolean, signal?: AbortSignal): Promise<Db> {
  const path = statePath(dataDir);
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  for (;;) {
    signal?.throwIfAborted();
    try {
      return await Db.open(path, { readOnly });
    } catch (err) {
      if (!isLockConflict(err) || Date.now() > deadline) {
        throw new Error(`cannot open the state database ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      await realSleep(LOCK_RETRY_MS + Math.random() * LOCK_RETRY_MS);
    }
  }
}

/** The schema (CREATE ... IF NOT EXISTS, additive ALTERs), once per file and process, not on every open: repeated no-op DDL still goes through the WAL. */
async function migrate(db: Db, existedBefore: boolean): Promise<void> {
  const key = resolve(db.path);
  if (!migrated.has(key) || !existedBefore) {
    await db.exec(schemaSql);
    migrated.add(key);
  }
}

/**
 * Folds the WAL into the file, then closes: the next open (often within milliseconds, in this or
 * another process) then never replays a WAL, a path with known DuckDB bugs after rapid
 * close/reopen cycles; a crash can cost at most the write in flight.
 * A checkpoint that fails (disk full, quota) is not the caller's failure: its writes have
 * committed, they are in the WAL and the next open replays them. Failing here would report a
 * recorded write as lost (e.g. leave a finished run looking unfinished).
 */
async function checkpointAndClose(db: Db): Promise<void> {
  await db.run('CHECKPOINT').catch(() => undefined);
  try {
    db.close();
  } catch {
    // Closing an instance a failed checkpoint invalidated: the committed WAL stays for the next open.
  }
}

async function openRunClose<T>(
  dataDir: string,
  fn: (db: Db) => Promise<T>,
  opts: { readOnly?: boolean; signal?: AbortSignal },
): Promise<T> {
  const path = statePath(dataDir);
  const existedBefore = existsSync(path);
  if (opts.readOnly && !existedBefore) {
    throw new Error(`cannot read the state database ${path}: it does not exist (nothing has run in this data directory yet?)`);
  }
  const db = await openWaiting(dataDir, opts.readOnly === true, opts.signal);
  if (opts.readOnly) {
    try {
      return await fn(db);
    } finally {
      db.close();
    }
  }
  let result: T;
  try {
    await migrate(db, existedBefore);
    result = await fn(db);
  } catch (err) {
    try {
      db.close();
    } catch {
      // As in checkpointAndClose.
    }
    throw err;
  }
  await checkpointAndClose(db);
  return result;
}
