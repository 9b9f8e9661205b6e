import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Db } from '../db/duckdb.ts';
import { statePath } from '../lake/layout.ts';

const schemaSql = readFileSync(fileURLToPath(new URL('./schema.sql', import.meta.url)), 'utf8');

const LOCK_RETRY_MS = 50;
const LOCK_TIMEOUT_MS = 30_000;

function isLockConflict(err: unknown): boolean {
  const msg = err instanceof Error ? err.message : String(err);
  return /lock|Conflicting|being used|Could not set lock/i.test(msg);
}

/**
 * Opens state.duckdb, applies the schema, runs `fn`, closes. Another process holding the file
 * (a short write of the scheduler) is waited for, not treated as an error.
 */
export async function withState<T>(
  dataDir: string,
  fn: (db: Db) => Promise<T>,
  opts: { readOnly?: boolean; signal?: AbortSignal } = {},
): Promise<T> {
  await mkdir(dataDir, { recursive: true });
  const path = statePath(dataDir);
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  let db: Db | undefined;
  for (;;) {
    opts.signal?.throwIfAborted();
    try {
      db = await Db.open(path);
      break;
    } catch (err) {
      if (!isLockConflict(err) || Date.now() > deadline) {
        throw new Error(`cannot open the state database ${path}: ${err instanceof Error ? err.message : String(err)}`);
      }
      await new Promise((r) => setTimeout(r, LOCK_RETRY_MS + Math.random() * LOCK_RETRY_MS));
    }
  }
  try {
    await db.exec(schemaSql);
    return await fn(db);
  } finally {
    db.close();
  }
}
