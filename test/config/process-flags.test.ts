/** The V8 flags cdrpipe starts with: named once, carried by the installed entry, and honoured by V8. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { V8_FLAGS } from '../../pipeline/config/process-flags.ts';
import { CLI_ENTRY } from '../support/cli.ts';

describe('V8 flags', () => {
  it('the installed entry starts node with exactly the flags the product names', () => {
    const shebang = readFileSync(CLI_ENTRY, 'utf8').split('\n')[0];
    expect(shebang).toBe(`#!/usr/bin/env -S node ${V8_FLAGS.join(' ')}`);
  });

  it('a process started with them keeps its young generation small after allocating garbage', () => {
    // 200 MB of short-lived objects: without the flag V8 grows the young generation to 32 MiB.
    const script = `let k = 0; for (let i = 0; i < 2e6; i++) k += [i, String(i), { i }].length;
      const s = require('node:v8').getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
      process.stdout.write(String(s.space_size + k * 0));`;
    const young = (flags: readonly string[]) => Number(execFileSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8' }));
    expect(young(V8_FLAGS)).toBeLessThanOrEqual(4 * 2 ** 20);
    expect(young([])).toBeGreaterThan(4 * 2 ** 20);
  });
});
