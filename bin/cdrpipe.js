#!/usr/bin/env node
// Runs from a build (dist/) when one exists, otherwise straight from the TypeScript sources via tsx,
// so `npx cdrpipe` works in a fresh checkout without a build step.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'pipeline', 'cli', 'main.js');
if (existsSync(built) && !process.env.CDRPIPE_FROM_SOURCE) {
  await import(pathToFileURL(built).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(join(root, 'pipeline', 'cli', 'main.ts')).href);
}
