import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository root (bench/lib/../..). */
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Thrown when a pipeline stage the scenario needs is not in the checkout yet. */
export class StageMissing extends Error {
  override readonly name = 'StageMissing';
}

/**
 * Imports a pipeline module by its path from the repository root and checks it exports what the
 * scenario calls. A stage that is missing or does not load (a checkout mid-change) makes the
 * scenario report "skipped: <reason>" instead of failing the whole bench.
 */
export async function loadStage<T>(relPath: string, exportNames: readonly string[]): Promise<T> {
  const abs = fileURLToPath(new URL(relPath, `file://${repoRoot}/`));
  if (!existsSync(abs)) throw new StageMissing(`${relPath} is not in the checkout yet`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(abs)) as Record<string, unknown>;
  } catch (err) {
    throw new StageMissing(`${relPath} does not load: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  const missing = exportNames.filter((n) => !(n in mod));
  if (missing.length > 0) throw new StageMissing(`${relPath} does not export ${missing.join(', ')} yet`);
  return mod as T;
}

/** Throws StageMissing naming the first of `relPaths` that is not in the checkout yet. */
export function requireFiles(relPaths: readonly string[]): void {
  for (const rel of relPaths) {
    if (!existsSync(fileURLToPath(new URL(rel, `file://${repoRoot}/`)))) throw new StageMissing(`${rel} is not in the checkout yet`);
  }
}
