import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { main } from '../../pipeline/cli/main.ts';
import { startSimulator, type RunningSimulator } from '../../pipeline/simulator/index.ts';
import { partitionDir } from '../../pipeline/lake/layout.ts';
import { TEST_DECK, writeDomains, writeLake, type FixtureCdr } from './lake-fixture.ts';
import { tempDir } from '../support/temp-dir.ts';

/** Runs the CLI in-process and captures stdout/stderr. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((err += String(chunk)), true));
  try {
    process.exitCode = undefined;
    const code = await main(['node', 'cdrpipe', ...args]);
    return { code, out, err };
  } finally {
    process.exitCode = undefined;
    o.mockRestore();
    e.mockRestore();
  }
}

const rec = (id: string, start: string, seconds: number) => ({
  id,
  'call-direction': 0,
  'call-start-datetime': start,
  'call-answer-datetime': start,
  'call-total-duration-seconds': seconds,
  'call-talking-duration-seconds': seconds,
  'call-orig-user': '101',
  'call-orig-caller-id': '2125550100',
  'call-orig-to-user': '+442071234567',
  'call-disconnect-datetime': new Date(Date.parse(start) + seconds * 1000).toISOString(),
});
const row = (domain: string, id: string, start: string, seconds: number): FixtureCdr => ({
  domain,
  id,
  start,
  direction: 'outbound',
  talk_s: seconds,
  duration_s: seconds,
  answer: start,
  orig_user: '101',
  caller_number: '2125550100',
  dialed_number: '+442071234567',
});

// The CLI uses the system clock: use a month safely in the past, whatever today is.
const now = new Date();
const base = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 2, 1));
const MONTH = base.toISOString().slice(0, 7);
const day = (d: number) => new Date(base.getTime() + d * 86_400_000 + 10 * 3_600_000).toISOString();

describe('cdrpipe transform / sql / reconcile', () => {
  let sim: RunningSimulator;
  let dataDir: string;
  const saved = { ...process.env };

  beforeAll(async () => {
    sim = await startSimulator({ domains: 0 });
    sim.addDomain({ domain: 'cli.example', timeZone: 'Europe/London' });
    sim.setCdrs('cli.example', [rec('k1', day(4), 61), rec('k2', day(5), 125)]);
    dataDir = await tempDir();
    const configPath = join(dataDir, 'jobs.config.ts');
    await writeFile(join(dataDir, 'deck.csv'), TEST_DECK.replaceAll('2026-01-01', '2000-01-01'));
    await writeFile(
      configPath,
      `export default ${JSON.stringify({
        reseller: { name: 'Test' },
        plans: {
          standard: {
            version: 'v1',
            rateDeck: join(dataDir, 'deck.csv'),
            inbound: { perMinute: '0.01' },
            tollFreeInbound: { perMinute: '0.02' },
          },
        },
        customers: { defaults: { plan: 'standard' } },
        jobs: {},
      })};\n`,
    );
    Object.assign(process.env, {
      CDRPIPE_DATA_DIR: dataDir,
      CDRPIPE_CONFIG: configPath,
      CDRPIPE_LOG_LEVEL: 'silent',
      NS_API_URL: sim.url,
      NS_API_KEY: 'nsr_test',
    });
    await writeDomains(dataDir, [{ domain: 'cli.example', time_zone: 'Europe/London' }]);
    await writeLake(dataDir, [row('cli.example', 'k1', day(4), 61)], 'a.parquet');
    await writeLake(dataDir, [row('cli.example', 'k2', day(5), 125)], 'b.parquet');
  });
  afterEach(() => {
    process.exitCode = undefined;
  });
  afterAll(async () => {
    process.env = saved;
    await sim?.close();
  });

  it('builds, queries, reconciles, and exits 3 when a file is gone', async () => {
    const t = await cli(['transform']);
    expect(t.err).toBe('');
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/data tests: \d+\/\d+ passed/);

    const s = await cli(['sql', 'SELECT id, billable_s, charge FROM rated_calls ORDER BY id', '--format', 'csv']);
    expect(s.code).toBe(0);
    expect(s.out).toBe('id,billable_s,charge\r\nk1,66,0.020000\r\nk2,126,0.040000\r\n');

    const ok = await cli(['reconcile', '--month', MONTH]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/all 1 domain\(s\) reconcile/);

    await rm(join(partitionDir(dataDir, MONTH, 'cli.example'), 'b.parquet'));
    const off = await cli(['reconcile', '--month', MONTH]);
    expect(off.code).toBe(3);
    expect(off.err).toMatch(/cli\.example/);

    const bad = await cli(['reconcile', '--month', '2026-1']);
    expect(bad.code).toBe(2);
  });
});
