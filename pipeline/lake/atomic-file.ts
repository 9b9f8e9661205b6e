import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Flushes a file (or directory) to stable storage. */
export async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Makes a finished temp file the real one: fsync it, rename(2) it over the target (atomic on one
 * filesystem, so a reader sees the old file or the new one, never a mix), fsync the directory so
 * the rename itself survives a crash.
 */
export async function publishFile(tmpPath: string, finalPath: string): Promise<void> {
  await fsyncPath(tmpPath);
  await rename(tmpPath, finalPath);
  try {
    await fsyncPath(dirname(finalPath));
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  }
}

export async function removeQuietly(path: string): Promise<void> {
  await rm(path, { force: true, recursive: true });
}
