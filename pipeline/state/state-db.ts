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
  return serialized(resolve(statePath(dataDir)), () => openRunClose(dataDir, fn, opts));
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
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  let db: Db | undefined;
  for (;;) {
    opts.signal?.throwIfAborted();
    try {
      db = await Db.open(path, { readOnly: opts.readOnly === true });
      break;
    } catch (err) {
      if (!isLockConflict(err) || Date.now() > deadline) {
        throw new Error(`cannot open the state database ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      await realSleep(LOCK_RETRY_MS + Math.random() * LOCK_RETRY_MS);
    }
  }
  try {
    if (opts.readOnly) return await fn(db);
    // The schema (CREATE ... IF NOT EXISTS, additive ALTERs) runs once per file and process, not
    // on every open: repeated no-op DDL still goes through the WAL.
    if (!migrated.has(resolve(path)) || !existedBefore) {
      await db.exec(schemaSql);
      migrated.add(resolve(path));
    }
    const result = await fn(db);
    // Fold the WAL into the file before closing: the next open (often within milliseconds, in
    // this or another process) then never replays a WAL, a path with known DuckDB bugs after
    // rapid close/reopen cycles; a crash can cost at most the write in flight.
    // A checkpoint that fails (disk full, quota) is not the caller's failure: `fn` has committed,
    // its writes are in the WAL and the next open replays them. Failing here would report a
    // recorded write as lost (e.g. leave a finished run looking unfinished).
    await db.run('CHECKPOINT').catch(() => undefined);
    return result;
  } finally {
    try {
      db.close();
    } catch {
      // Closing an instance a failed checkpoint invalidated: the committed WAL stays for the next open.
    }
  }
}
