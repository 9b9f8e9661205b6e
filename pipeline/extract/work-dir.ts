import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireLock, LockHeldError, pidIsAlive } from '../util/lock.ts';
import { CdrpipeError } from '../util/errors.ts';

/** Scratch space of ingest runs: <dataDir>/tmp/ingest-<runId>, on the lake's filesystem. */
export const workRoot = (dataDir: string) => join(dataDir, 'tmp');

export async function createWorkDir(dataDir: string, runId: string): Promise<string> {
  const dir = join(workRoot(dataDir), `ingest-${runId.replace(/[^A-Za-z0-9._-]/g, '_')}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'pid'), String(process.pid));
  return dir;
}

export async function removeWorkDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Removes work directories of runs that were killed (their process is gone). */
export async function cleanStaleWorkDirs(dataDir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(workRoot(dataDir));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith('ingest-')) continue;
    const dir = join(workRoot(dataDir), name);
    const pid = Number(await readFile(join(dir, 'pid'), 'utf8').catch(() => 'NaN'));
    if (!Number.isInteger(pid) || (pid !== process.pid && !pidIsAlive(pid))) await removeWorkDir(dir);
  }
}

/** Another ingest is writing this data directory. */
export class IngestBusyError extends CdrpipeError {
  override readonly name = 'IngestBusyError';
}

/**
 * One ingest per data directory: two runs merging the same partition at once would each rename
 * their own version over the other's. The product's one lock implementation decides (exclusive
 * create, exclusive takeover of a dead holder's lock).
 */
export async function acquireIngestLock(dataDir: string): Promise<() => Promise<void>> {
  try {
    const lock = await acquireLock(join(workRoot(dataDir), 'ingest.lock'), { purpose: 'ingest' });
    return lock.release;
  } catch (err) {
    if (!(err instanceof LockHeldError)) throw err;
    const pid = err.owner?.pid;
    throw new IngestBusyError(
      pid !== undefined
        ? `another ingest (pid ${pid}) is writing ${dataDir}; wait for it to finish (or stop it) and run again`
        : `could not take the ingest lock of ${dataDir}: ${err.message}`,
    );
  }
}
