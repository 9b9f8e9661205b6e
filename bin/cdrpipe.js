#!/usr/bin/env -S node --max-semi-space-size=2
// cdrpipe runs from its TypeScript sources through tsx (a runtime dependency): jobs.config.ts is
// TypeScript and needs tsx to load anyway, so a second, compiled copy of the code would only be
// one more thing to keep in step. There is no build step.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { register } = await import('tsx/esm/api');
register();
await import(pathToFileURL(join(root, 'pipeline', 'cli', 'main.ts')).href);
