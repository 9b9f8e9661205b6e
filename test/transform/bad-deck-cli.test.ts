import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { main } from '../../pipeline/cli/main.ts';
import { startSimulator, type RunningSimulator } from '../../pipeline/simulator/index.ts';
import { TEST_DECK, writeDomains } from './lake-fixture.ts';
import { tempDir } from '../support/temp-dir.ts';

/** Runs the CLI in-process and captures stderr. */
async function cli(args: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((err += String(chunk)), true));
  try {
    process.exitCode = undefined;
    return { code: await main(['node', 'cdrpipe', ...args]), err };
  } finally {
    process.exitCode = undefined;
    o.mockRestore();
    e.mockRestore();
  }
}

const HEADER = TEST_DECK.split('\n')[0]!;

describe('cdrpipe transform and run with a broken rate deck', () => {
  let sim: RunningSimulator;
  let dataDir: string;
  let deckPath: string;
  const saved = { ...process.env };

  beforeAll(async () => {
    sim = await startSimulator({ domains: 0 });
    dataDir = await tempDir('cdrpipe-bad-deck-', { scope: 'file' });
    deckPath = join(dataDir, 'deck.csv');
    const configPath = join(dataDir, 'jobs.config.ts');
    await writeFile(
      configPath,
      `export default ${JSON.stringify({
        reseller: { name: 'Test' },
        plans: { standard: { version: 'v1', rateDeck: deckPath, inbound: { perMinute: '0.01' }, tollFreeInbound: { perMinute: '0.02' } } },
        customers: { defaults: { plan: 'standard' } },
        jobs: { 'monthly-reports': { task: 'monthly-reports', cron: '0 6 1 * *' } },
      })};\n`,
    );
    Object.assign(process.env, {
      CDRPIPE_DATA_DIR: dataDir,
      CDRPIPE_CONFIG: configPath,
      CDRPIPE_LOG_LEVEL: 'silent',
      NS_API_URL: sim.url,
      NS_API_KEY: 'nsr_test',
    });
    await writeDomains(dataDir, [{ domain: 'deck.example', time_zone: 'UTC' }]);
  });
  afterAll(async () => {
    process.env = saved;
    await sim?.close();
  });

  const cases: { name: string; deck: string | undefined; says: RegExp[] }[] = [
    { name: 'missing file', deck: undefined, says: [/cannot read rate deck/, /deck\.csv/] },
    { name: 'unparseable CSV (no header)', deck: 'this is not,a rate deck\n1,2\n', says: [/deck\.csv/, /header lacks prefix/] },
    {
      name: 'bad prefix',
      deck: `${HEADER}\n+1,US,0.01,6,6,0,0,2026-01-01\n1-800,Toll free,0,6,6,0,0,2026-01-01\n`,
      says: [/deck\.csv line 3/, /prefix "1-800"/],
    },
    {
      name: 'broken quoting',
      deck: `${HEADER}\n+44,U"K,0.02,60,6,0,0,2026-01-01\n`,
      says: [/deck\.csv line 2/, /description is not valid CSV/],
    },
    { name: 'negative rate', deck: `${HEADER}\n+44,UK,-0.02,60,6,0,0,2026-01-01\n`, says: [/deck\.csv line 2/, /per_minute "-0\.02"/] },
  ];

  for (const c of cases) {
    it(`exits 2 naming the file, line and field: ${c.name}`, async () => {
      await rm(deckPath, { force: true });
      if (c.deck !== undefined) await writeFile(deckPath, c.deck);
      const r = await cli(['transform']);
      expect(r.err).toContain('plans.standard.rateDeck');
      for (const re of c.says) expect(r.err).toMatch(re);
      expect(r.code).toBe(2);
    });
  }

  it('exits 2 from a job run too (cdrpipe run monthly-reports)', async () => {
    await writeFile(deckPath, `${HEADER}\n+44,UK,-0.02,60,6,0,0,2026-01-01\n`);
    const r = await cli(['run', 'monthly-reports']);
    expect(r.code).toBe(2);
  });
});
