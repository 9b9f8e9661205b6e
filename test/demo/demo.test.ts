import { readdir, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cdrsDir, outboxDir } from '../../pipeline/lake/layout.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { formatDemoSummary, runDemo } from '../../pipeline/schedule/demo.ts';
import { recentRuns } from '../../pipeline/schedule/run-log.ts';
import { gatherStatus } from '../../pipeline/schedule/status-report.ts';
import type { JobProgress } from '../../pipeline/schedule/job-types.ts';
import { testEnv } from '../schedule/helpers.ts';
import { tempDir } from '../support/temp-dir.ts';
import { TEST_JOBS, testConfig } from '../support/test-config.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fileStamps(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const names = ((await readdir(dir, { recursive: true })) as string[]).sort();
  const out: string[] = [];
  for (const n of names) {
    const s = await stat(join(dir, n));
    if (s.isFile()) out.push(`${n} ${s.size} ${s.mtimeMs}`);
  }
  return out;
}

describe('cdrpipe demo, end to end against a small simulator', () => {
  it('ingests, transforms, reconciles, renders and delivers; a second run changes nothing and sends nothing', async () => {
    const tmp = await tempDir('cdrpipe-demo-');
    const dataDir = tmp;
    const clock = new FixedClock(new Date('2026-11-10T15:00:00Z'));
    const config = testConfig({ jobs: { ...TEST_JOBS, alerts: { task: 'alerts', cron: '7 * * * *', after: 'ingest' } } });
    const progress: JobProgress[] = [];
    const opts = {
      dataDir,
      config,
      env: testEnv(dataDir),
      clock,
      logger: silentLogger(),
      simulator: { seed: 5, domains: 3, volume: 0.5, faults: { seed: 3, errorRate: 0.03 } },
      onProgress: (p: JobProgress) => progress.push(p),
    };

    const first = await runDemo(opts);
    expect(first.runs.map((r) => [r.jobName, r.status, r.error])).toEqual([
      ['ingest', 'ok', undefined],
      ['alerts', 'ok', undefined],
      ['monthly-reports', 'ok', undefined],
      ['reconcile', 'ok', undefined],
    ]);
    // The simulated hijacked extension is found, and each of its alerts mailed to the operator.
    const alerts = first.alerts!;
    expect(alerts.open).toBeGreaterThan(0);
    expect(alerts.newest.every((a) => a.domain === alerts.injected.domain)).toBe(true);
    const alertMails = (await readdir(outboxDir(dataDir))).filter((f) => f.includes('_alert-'));
    expect(alertMails.length).toBe(alerts.open);
    expect(first.month).toBe('2026-10');
    expect(first.lake.rows).toBeGreaterThan(100);
    expect(first.exampleReport).toMatch(/reports\/2026-10\/.+\/report\.html$/);
    expect(existsSync(first.exampleReport!)).toBe(true);
    // Three customers and the billing team's report, and the alerts.
    expect(first.outboxFiles).toBe(4 + alerts.open);
    expect(first.runs[2]!.outcome?.message).toMatch(/reports for 2026-10: \d+ rendered, 4 sent, 0 already sent; all 3 domains reconcile/);
    expect(progress.map((p) => p.phase)).toEqual(expect.arrayContaining(['ingest', 'transform', 'reconcile', 'reports']));
    const text = formatDemoSummary(first, { defaultDataDir: join(dataDir, 'elsewhere') });
    expect(text).toContain('report.html');
    expect(text).toContain("read_parquet('");
    expect(text).toContain(`CDRPIPE_DATA_DIR=${dataDir} npx cdrpipe sql`);
    expect(formatDemoSummary(first, { defaultDataDir: dataDir })).not.toContain('CDRPIPE_DATA_DIR=');

    const lakeBefore = await fileStamps(cdrsDir(dataDir));
    const outboxBefore = await fileStamps(outboxDir(dataDir));
    clock.advance(60_000);
    const second = await runDemo(opts);
    expect(second.runs.map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(second.runs[1]!.outcome?.message).toMatch(/0 new alert\(s\); 0 notification\(s\) sent/);
    expect(second.runs[2]!.outcome?.message).toMatch(/0 sent, 4 already sent/);
    expect(await fileStamps(cdrsDir(dataDir))).toEqual(lakeBefore);
    expect(await fileStamps(outboxDir(dataDir))).toEqual(outboxBefore);
    expect(second.lake).toEqual(first.lake);

    const runs = await recentRuns(dataDir);
    expect(runs.map((r) => `${r.job}:${r.trigger}:${r.status}`).sort()).toEqual([
      'alerts:manual:ok',
      'alerts:manual:ok',
      'ingest:manual:ok',
      'ingest:manual:ok',
      'monthly-reports:manual:ok',
      'monthly-reports:manual:ok',
      'reconcile:manual:ok',
      'reconcile:manual:ok',
    ]);
    const status = await gatherStatus({ dataDir, config, clock });
    expect(status.watermarks).toHaveLength(3);
    expect(status.unsent.count).toBe(0);
    expect(status.alerts.open).toBe(alerts.open);
    expect(status.alerts.undelivered).toEqual({});
    expect(status.reconciliations.find((r) => r.month === '2026-10')).toMatchObject({ ok: 3, off: 0 });
    // The cost side: the simulated carrier's month reconciled, with its planted discrepancies.
    expect(first.cost?.error).toBeUndefined();
    expect(first.cost?.line).toMatchObject({ carrier: 'generic', duration_dispute: 3, cost_dispute: 2, carrier_only: 2, pbx_only: 3 });
    expect(first.cost?.disputeFile).toMatch(/reports\/2026-10\/carriers\/generic\/disputes\.csv$/);
    expect(formatDemoSummary(first, { defaultDataDir: dataDir })).toContain('cost side  carrier generic, UTC month 2026-10');
  }, 360_000);
});
