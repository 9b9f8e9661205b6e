/**
 * Files that appear only complete: written under a unique temp name in the same folder, flushed,
 * renamed over the target (atomic on one filesystem: a reader sees the old file or the new one,
 * never a mix) and the folder flushed so the rename itself survives a crash. This is the one
 * implementation every writer of the data directory uses.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pidIsAlive } from './lock.ts';

/** Flushes a file (or folder) to stable storage. */
export async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Removes a file or folder; a missing one is fine. */
export async function removeQuietly(path: string): Promise<void> {
  await rm(path, { force: true, recursive: true });
}

/**
 * A temp name for `path` in the same folder, unique across processes and within one:
 * `<name>.<pid>.<ms>.<random>.tmp`. The pid lets a later write tell a dead writer's leftovers from
 * a live writer's work in progress (removeStaleAsides).
 */
export function asidePath(path: string): string {
  return `${path}.${process.pid}.${Date.now()}.${randomBytes(4).toString('hex')}.tmp`;
}

/**
 * Makes a finished temp file the real one: fsync it, rename it over `finalPath`, fsync the folder.
 * On failure the temp file is removed and the error rethrown; the target is left as it was.
 */
export async function publishFile(tmpPath: string, finalPath: string): Promise<void> {
  try {
    await fsyncPath(tmpPath);
    await rename(tmpPath, finalPath);
  } catch (err) {
    await removeQuietly(tmpPath).catch(() => undefined);
    throw err;
  }
  try {
    await fsyncPath(dirname(finalPath));
  } catch {
    // Some filesystems refuse fsync on folders; the rename is still atomic.
  }
}

/** The pid in `<name>.<pid>.<ms>[.<random>].tmp`, when `candidate` is an aside file of `name`. */
function asidePid(name: string, candidate: string): number | undefined {
  if (!candidate.startsWith(`${name}.`) || !candidate.endsWith('.tmp')) return undefined;
  const m = /^(\d+)\.\d+(?:\.[0-9a-f]+)?\.tmp$/.exec(candidate.slice(name.length + 1));
  return m ? Number(m[1]) : undefined;
}

/**
 * Removes aside files of `path` left by processes that are gone (killed, or out of disk before
 * they could clean up). Files of live processes are theirs, still being written.
 */
export async function removeStaleAsides(path: string, isAlive: (pid: number) => boolean = pidIsAlive): Promise<void> {
  await removeStaleAsidesIn(dirname(path), [basename(path)], isAlive);
}

/** removeStaleAsides for several files of one folder, with one listing of the folder. */
async function removeStaleAsidesIn(dir: string, names: readonly string[], isAlive: (pid: number) => boolean = pidIsAlive): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return;
  }
  for (const e of entries) {
    for (const name of names) {
      const pid = asidePid(name, e);
      if (pid !== undefined && pid !== process.pid && !isAlive(pid)) await rm(join(dir, e), { force: true });
    }
  }
}

/** Writes `content` to a new file and flushes it to stable storage, through one open handle. */
async function writeFlushed(path: string, content: string | Uint8Array): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes `content` to `path` so that no reader ever sees a partial file (creating the folder when
 * needed). A write that fails (full disk, quota, name taken by a folder) removes its temp file;
 * temp files of killed runs are removed by the next write of the same file.
 */
export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await removeStaleAsides(path);
  const aside = asidePath(path);
  try {
    await writeFile(aside, content);
  } catch (err) {
    await removeQuietly(aside).catch(() => undefined);
    throw err;
  }
  await publishFile(aside, path);
}

/**
 * Writes several files of one folder the way writeFileAtomic writes one (each appears whole or not
 * at all), flushing the folder once for all of them instead of once per file: a report's three
 * files cost three file flushes and one folder flush. When any cannot be written, none is
 * published; a rename that fails leaves that file (and the ones after it) as they were.
 */
export async function writeFilesAtomic(dir: string, files: readonly { name: string; content: string | Uint8Array }[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await removeStaleAsidesIn(
    dir,
    files.map((f) => f.name),
  );
  const written = await Promise.allSettled(
    files.map(async (f) => {
      const path = join(dir, f.name);
      const aside = asidePath(path);
      try {
        await writeFlushed(aside, f.content);
      } catch (err) {
        await removeQuietly(aside).catch(() => undefined);
        throw err;
      }
      return { aside, path };
    }),
  );
  const failed = written.find((w) => w.status === 'rejected');
  if (failed) {
    // Nothing of a group that could not be written whole is published.
    for (const w of written) if (w.status === 'fulfilled') await removeQuietly(w.value.aside).catch(() => undefined);
    throw failed.reason;
  }
  for (const w of written) {
    const { aside, path } = (w as PromiseFulfilledResult<{ aside: string; path: string }>).value;
    try {
      await rename(aside, path);
    } catch (err) {
      await removeQuietly(aside).catch(() => undefined);
      throw err;
    }
  }
  try {
    await fsyncPath(dir);
  } catch {
    // Some filesystems refuse fsync on folders; the renames are still atomic.
  }
}
