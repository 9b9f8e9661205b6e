import { execFile } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dir.ts';
import { projectRoot } from '../../pipeline/config/load-config.ts';

const run = promisify(execFile);

/**
 * What a user gets from `npm install cdrpipe`: the packed tarball installed into an empty project
 * (a folder name with a space, because URL paths once broke on those), then the installed bin run.
 * Dependencies come from npm's cache, which `npm ci` has just filled.
 */
describe('the packed package', () => {
  let dir = '';
  let bin = '';

  beforeAll(async () => {
    dir = await tempDir('cdrpipe pack-');
    const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: projectRoot });
    const tarball = stdout.trim().split('\n').at(-1)!;
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', join(dir, tarball)], {
      cwd: dir,
      timeout: 300_000,
    });
    bin = join(dir, 'node_modules', '.bin', 'cdrpipe');
  }, 320_000);

  const cdrpipe = (args: string[], timeout = 60_000) =>
    run(bin, args, { cwd: dir, timeout, env: { ...process.env, CDRPIPE_DATA_DIR: join(dir, 'data') } });

  it('ships the sources, SQL and templates it reads at run time, and no tests', async () => {
    const pkg = join(dir, 'node_modules', 'cdrpipe');
    expect(await readdir(join(pkg, 'pipeline', 'lake', 'sql'))).toContain('cdr-macros.sql');
    expect((await readdir(join(pkg, 'templates'))).length).toBeGreaterThan(0);
    expect((await readdir(join(pkg, 'reports', 'models'))).length).toBeGreaterThan(0);
    expect(await readdir(pkg)).not.toContain('test');
  });

  it('answers --help and status from the installed bin', async () => {
    const help = await cdrpipe(['--help']);
    expect(help.stdout).toContain('ingest');
    const status = await cdrpipe(['status']);
    expect(status.stdout).toMatch(/lake:\s+0 files/);
  });

  it('runs the demo end to end from the installed bin', async () => {
    const { stdout } = await cdrpipe(['demo', '--domains', '3', '--json'], 240_000);
    const summary = JSON.parse(stdout) as Record<string, unknown>;
    expect(summary).toBeTypeOf('object');
    expect(await readdir(join(dir, 'data', 'outbox'))).not.toHaveLength(0);
  }, 250_000);
});
