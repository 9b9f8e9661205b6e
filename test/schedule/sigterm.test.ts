import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Db, sqlString } from '../../pipeline/db/duckdb.ts';
import { cdrsDir, cdrsGlob } from '../../pipeline/lake/layout.ts';
import { projectRoot } from '../../pipeline/config/load-config.ts';
import { startSimulator, type RunningSimulator } from '../../pipeline/simulator/index.ts';
import { recentRuns } from '../../pipeline/schedule/run-log.ts';
import { withState } from '../../pipeline/state/state-db.ts';
import { tempDir } from '../support/temp-dir.ts';
import { spawnCli } from '../support/cli.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A config with many small windows, so a run is long enough to be stopped in the middle. */
function configSource(): string {
  return `import { defineConfig } from ${JSON.stringify(join(projectRoot, 'pipeline/config/define-config.ts'))};
export default defineConfig({
  reseller: { name: 'T', timeZone: 'America/New_York' },
  ingest: { concurrency: 2, rowBudget: 1000, pageSize: 50, maxWindowDays: 1, initialBackfillDays: 12, lookbackHours: 1, settleMinutes: 15 },
  plans: { standard: { version: 't', rateDeck: 'reports/rates/standard.csv', inbound: { perMinute: '0.01' }, tollFreeInbound: { perMinute: '0.02' } } },
  customers: { defaults: { plan: 'standard', recipients: [] } },
  jobs: { ingest: { task: 'ingest', cron: '*/15 * * * *' } },
});
`;
}

async function lakeFiles(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(cdrsDir(dir), { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  } catch {
    return [];
  }
}

describe('SIGTERM during a scheduled ingest', () => {
  it('stops after the windows in flight, leaves the lake consistent, and the next run completes it', async () => {
    const tmp = await tempDir();
    const sim: RunningSimulator = await startSimulator({ port: 0, seed: 11, domains: 3, faults: { latencyMs: 25 } });
    cleanups.push(() => sim.close());
    const configPath = join(tmp, 'jobs.config.ts');
    await writeFile(configPath, configSource());
    const env = {
      CDRPIPE_DATA_DIR: join(tmp, 'data'),
      NS_API_URL: sim.url,
      NS_API_KEY: 'test-key',
      CDRPIPE_CONFIG: configPath,
      CDRPIPE_LOG_LEVEL: 'info',
    };
    const dataDir = env.CDRPIPE_DATA_DIR;

    const first = spawnCli(['run', 'ingest'], { env });
    const deadline = Date.now() + 30_000;
    while (sim.stats().requests < 25 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    first.child.kill('SIGTERM');
    const code = await first.exited;
    expect(code, first.output()).toBe(1);
    expect(first.output()).toMatch(/ingest: interrupted/);
    let runs = await recentRuns(dataDir);
    expect(runs.map((r) => [r.job, r.trigger, r.status])).toEqual([['ingest', 'manual', 'interrupted']]);

    // Consistent: only complete parquet files, each readable, no CDR twice.
    const files = await lakeFiles(dataDir);
    expect(files.filter((f) => !f.endsWith('.parquet'))).toEqual([]);
    const db = await Db.open(':memory:');
    cleanups.push(async () => db.close());
    if (files.length > 0) {
      const dup = await db.one<{ n: number; d: number }>(
        `SELECT count(*)::INTEGER AS n, count(DISTINCT domain || '/' || id)::INTEGER AS d FROM read_parquet(${sqlString(cdrsGlob(dataDir))}, hive_partitioning = true)`,
      );
      expect(dup!.n).toBe(dup!.d);
    }

    // The next run picks up where the watermarks stand and completes the range.
    sim.setFaults({});
    const second = spawnCli(['run', 'ingest'], { env });
    expect(await second.exited, second.output()).toBe(0);
    runs = await recentRuns(dataDir);
    expect(runs[0]).toMatchObject({ job: 'ingest', status: 'ok' });
    const watermarks = await withState(dataDir, (s) =>
      s.all<{ domain: string; wm: string }>(`SELECT domain, watermark::VARCHAR AS wm FROM watermarks ORDER BY domain`),
    );
    expect(watermarks).toHaveLength(3);
    const from = new Date(Date.now() - 10 * 86_400_000);
    for (const w of watermarks) {
      const end = new Date(w.wm.replace(' ', 'T').replace(/\+00$/, 'Z'));
      const truth = sim.groundTruth(w.domain, { start: from, end }).length;
      const got = await db.one<{ n: number }>(
        `SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(cdrsGlob(dataDir))}, hive_partitioning = true)
         WHERE domain = $1 AND start_time >= $2::TIMESTAMPTZ AND start_time < $3::TIMESTAMPTZ`,
        [w.domain, from.toISOString(), end.toISOString()],
      );
      expect(got!.n, w.domain).toBe(truth);
    }
  });
});
