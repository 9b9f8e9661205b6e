import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Writes aside and renames, so a reviewer never opens a half-written report. */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const aside = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(aside, content, 'utf8');
  await rename(aside, path);
}
