/**
 * The AWS SDK is loaded only for a lake in a bucket: no module the CLI's entry reaches through
 * static imports imports it (the store's registry loads it with a dynamic import on first use).
 * Module by module, as the loader sees them: `import type` / `export type` are erased, an import
 * of only `{ type X }` is kept (verbatimModuleSyntax) and so counts.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../pipeline/config/load-config.ts';

const STATIC_IMPORT = /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm;

/** Every module reachable from `entry` by static imports (relative files), with the packages each imports. */
async function staticGraph(entry: string): Promise<Map<string, string[]>> {
  const seen = new Map<string, string[]>();
  const queue = [resolve(entry)];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    const text = await readFile(file, 'utf8');
    const packages: string[] = [];
    seen.set(file, packages);
    for (const m of text.matchAll(STATIC_IMPORT)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) queue.push(resolve(dirname(file), spec));
      else packages.push(spec);
    }
  }
  return seen;
}

describe('the AWS SDK at start-up', () => {
  it('is not reached from the CLI entry by static imports; the bucket adapter is', async () => {
    const graph = await staticGraph(join(projectRoot, 'pipeline', 'cli', 'main.ts'));
    expect(graph.size).toBeGreaterThan(50);
    const sdkUsers = [...graph].filter(([, pkgs]) => pkgs.some((p) => p.startsWith('@aws-sdk/'))).map(([f]) => relative(projectRoot, f));
    expect(sdkUsers).toEqual([]);
    // The walk does see SDK imports where they are: the adapter's own graph has them.
    const adapter = await staticGraph(join(projectRoot, 'pipeline', 'store', 'bucket.ts'));
    expect([...adapter.values()].flat()).toContain('@aws-sdk/client-s3');
  });
});
