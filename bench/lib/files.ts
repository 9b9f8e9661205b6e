import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Every file under `dir` whose name ends with `suffix`, recursively (empty when `dir` is absent). */
export async function listFiles(dir: string, suffix: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries.filter((e) => e.isFile() && e.name.endsWith(suffix)).map((e) => join(e.parentPath, e.name));
}

/** Total bytes of the files under `dir` ending with `suffix`. */
export async function totalBytes(dir: string, suffix: string): Promise<number> {
  const files = await listFiles(dir, suffix);
  let sum = 0;
  for (const f of files) sum += (await stat(f)).size;
  return sum;
}
