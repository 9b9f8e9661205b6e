import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
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
    if (!Number.isInteger(pid) || (pid !== process.pid && !alive(pid))) await removeWorkDir(dir);
  }
}

/** Another ingest is writing this data directory. */
export class IngestBusyError extends Error {
  override readonly name = 'IngestBusyError';
  readonly exitCode = 1 as const;
}

/**
 * One ingest per data directory: two runs merging the same partition at once would each rename
 * their own version over the other's. The lock file holds the pid; a dead holder's lock is taken over.
 */
export async function acquireIngestLock(dataDir: string): Promise<() => Promise<void>> {
  await mkdir(workRoot(dataDir), { recursive: true });
  const path = join(workRoot(dataDir), 'ingest.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, String(process.pid), { flag: 'wx' });
      return async () => {
        const holder = Number(await readFile(path, 'utf8').catch(() => 'NaN'));
        if (holder === process.pid) await rm(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(await readFile(path, 'utf8').catch(() => 'NaN'));
      if (Number.isInteger(pid) && (pid === process.pid || alive(pid))) {
        throw new IngestBusyError(`another ingest (pid ${pid}) is writing ${dataDir}; wait for it to finish (or stop it) and run again`);
      }
      await rm(path, { force: true });
    }
  }
  throw new IngestBusyError(`could not take the ingest lock ${path}; another ingest may have just started`);
}
