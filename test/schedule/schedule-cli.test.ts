import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { projectRoot } from '../../pipeline/config/load-config.ts';
import { lockHolder } from '../../pipeline/util/lock.ts';
import { schedulerLockPath } from '../../pipeline/schedule/run-job.ts';
import { tempDir } from '../support/temp-dir.ts';
import { spawnCli } from '../support/cli.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('cdrpipe schedule (processes)', () => {
  it('refuses a second scheduler with exit 1, and stops cleanly on SIGTERM releasing the lock', async () => {
    const tmp = await tempDir();
    const configPath = join(tmp, 'jobs.config.ts');
    await writeFile(
      configPath,
      `import { defineConfig } from ${JSON.stringify(join(projectRoot, 'pipeline/config/define-config.ts'))};
export default defineConfig({
  reseller: { name: 'T', timeZone: 'America/New_York' },
  plans: { standard: { version: 't', rateDeck: 'reports/rates/standard.csv', inbound: { perMinute: '0.01' }, tollFreeInbound: { perMinute: '0.02' } } },
  customers: { defaults: { plan: 'standard' } },
  jobs: { yearly: { task: 'ingest', cron: '0 0 1 1 *' } },
});
`,
    );
    const dataDir = join(tmp, 'data');
    // A URL nothing listens on: no job fires during the test, the scheduler only needs it configured.
    const env = {
      CDRPIPE_DATA_DIR: dataDir,
      CDRPIPE_CONFIG: configPath,
      CDRPIPE_LOG_LEVEL: 'info',
      NS_API_URL: 'http://127.0.0.1:9/ns-api/v2',
      NS_API_KEY: 'k',
    };
    const first = spawnCli(['schedule'], { env });
    cleanups.push(async () => void first.child.kill('SIGKILL'));
    const deadline = Date.now() + 30_000;
    while (!first.output().includes('scheduler started') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(first.output()).toContain('scheduler started');
    expect((await lockHolder(schedulerLockPath(dataDir)))?.pid).toBe(first.child.pid);

    const second = spawnCli(['schedule'], { env });
    expect(await second.exited, second.output()).toBe(1);
    expect(second.output()).toMatch(new RegExp(`scheduler already running: pid ${first.child.pid} on .* holds .*scheduler\\.lock`));

    first.child.kill('SIGTERM');
    expect(await first.exited, first.output()).toBe(0);
    expect(first.output()).toContain('scheduler stopped, lock released');
    expect(existsSync(schedulerLockPath(dataDir))).toBe(false);
  });
});
