import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pidIsAlive } from '../schedule/lock.ts';

/** `<name>.<pid>.<stamp>[.<random>].tmp`: the aside files writeFileAtomic makes for `<name>`. */
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
  const dir = dirname(path);
  const name = basename(path);
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return;
  }
  for (const e of entries) {
    const pid = asidePid(name, e);
    if (pid !== undefined && pid !== process.pid && !isAlive(pid)) await rm(join(dir, e), { force: true });
  }
}

/**
 * Writes aside and renames, so a reviewer never opens a half-written report. A write that fails
 * (full disk, quota) removes its aside file; asides of killed runs are removed by the next write
 * of the same file.
 */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await removeStaleAsides(path);
  const aside = `${path}.${process.pid}.${Date.now()}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(aside, content, 'utf8');
    await rename(aside, path);
  } catch (err) {
    await rm(aside, { force: true }).catch(() => undefined);
    throw err;
  }
}
