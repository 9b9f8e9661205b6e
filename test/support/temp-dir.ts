/** Temporary directories for tests: created under the OS temp folder, removed when their test (or file) is done. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, onTestFinished } from 'vitest';

const fileScoped: string[] = [];
// Registered while the importing test file is collected: directories made outside a test
// (in beforeAll, or at collection) go when that file is done.
afterAll(async () => {
  await Promise.all(fileScoped.splice(0).map(remove));
});

function remove(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * A fresh empty directory under os.tmpdir(). Made inside a test (or its beforeEach) it is removed
 * when that test finishes, after its afterEach hooks (so servers and files closed there are
 * already closed); made anywhere else, or with `scope: 'file'` (a fixture later tests reuse), it
 * is removed when the test file is done.
 */
export async function tempDir(prefix = 'cdrpipe-test-', opts: { scope?: 'test' | 'file' } = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  if (opts.scope === 'file') {
    fileScoped.push(dir);
    return dir;
  }
  try {
    onTestFinished(() => remove(dir));
  } catch {
    // Not inside a test: keep it for the rest of the file.
    fileScoped.push(dir);
  }
  return dir;
}
