import { describe, expect, it } from 'vitest';
import { parseConcurrency, parseIngestTime } from '../../pipeline/cli/ingest.ts';
import { UsageError } from '../../pipeline/util/errors.ts';

describe('cdrpipe ingest arguments', () => {
  it('reads a date as midnight UTC and a datetime as UTC unless it has an offset', () => {
    expect(parseIngestTime('--from', '2026-10-01').toISOString()).toBe('2026-10-01T00:00:00.000Z');
    expect(parseIngestTime('--from', '2026-10-01T06:30').toISOString()).toBe('2026-10-01T06:30:00.000Z');
    expect(parseIngestTime('--from', '2026-10-01 06:30:15Z').toISOString()).toBe('2026-10-01T06:30:15.000Z');
    expect(parseIngestTime('--from', '2026-10-01T06:30:00-0400').toISOString()).toBe('2026-10-01T10:30:00.000Z');
    expect(parseIngestTime('--to', '2026-10-01T06:30:00.250+02:00').toISOString()).toBe('2026-10-01T04:30:00.250Z');
  });
  it('refuses anything else with a usage error naming the flag', () => {
    for (const bad of ['yesterday', '2026-13-01', '2026-02-30', '2026-10-01T25:00', '', '1696118400']) {
      expect(() => parseIngestTime('--to', bad)).toThrow(UsageError);
      expect(() => parseIngestTime('--to', bad)).toThrow(/--to/);
    }
    expect(parseConcurrency('8')).toBe(8);
    for (const bad of ['0', '-1', '2.5', 'lots', '65']) expect(() => parseConcurrency(bad)).toThrow(/--concurrency/);
  });
});

describe('cdrpipe ingest exit codes', () => {
  it('exits 2 on a bad --from before touching the network', async () => {
    const { main } = await import('../../pipeline/cli/main.ts');
    const err = process.stderr.write;
    let text = '';
    process.stderr.write = ((s: string) => ((text += s), true)) as typeof process.stderr.write;
    try {
      expect(await main(['node', 'cdrpipe', 'ingest', '--from', 'last-tuesday'])).toBe(2);
      expect(await main(['node', 'cdrpipe', 'ingest', '--to', '2026-10-01'])).toBe(2);
    } finally {
      process.stderr.write = err;
    }
    expect(text).toMatch(/--from "last-tuesday" is not an ISO date/);
    expect(text).toMatch(/--to needs --from/);
  });
});

describe('cdrpipe ingest in the run log', () => {
  it('records a run by hand, which `cdrpipe status` lists beside the scheduled jobs', async () => {
    const { tempDir } = await import('../support/temp-dir.ts');
    const { spawnCli } = await import('../support/cli.ts');
    const { testConfig } = await import('../support/test-config.ts');
    const { startSimulator } = await import('../../pipeline/simulator/index.ts');
    const { recentRuns } = await import('../../pipeline/schedule/run-log.ts');
    const { gatherStatus, formatStatus } = await import('../../pipeline/schedule/status-report.ts');
    const { FixedClock } = await import('../../pipeline/util/clock.ts');
    const { CLI_INGEST_JOB } = await import('../../pipeline/cli/ingest.ts');
    const tmp = await tempDir('cdrpipe-ingest-cli-');
    const sim = await startSimulator({ port: 0, seed: 5, domains: 2 });
    try {
      const dataDir = `${tmp}/data`;
      const run = spawnCli(['ingest', '--from', '2026-10-01', '--to', '2026-10-03', '--json'], {
        env: { CDRPIPE_DATA_DIR: dataDir, NS_API_URL: sim.url, NS_API_KEY: 'k' },
      });
      expect(await run.exited, run.output()).toBe(0);
      // The summary's figures (stdout also carries the JSON logs, so read them off its lines).
      const rowsFetched = Number(/"rowsFetched": (\d+)/.exec(run.output())?.[1]);
      const rowsWritten = Number(/"rows": (\d+)/.exec(run.output())?.[1]);
      const requests = Number(/"requests": (\d+)/.exec(run.output())?.[1]);
      expect(rowsFetched).toBeGreaterThan(0);
      // A first fill: every fetched row was written (rows = rows written, as for scheduled runs).
      expect(rowsWritten).toBe(rowsFetched);
      const runs = await recentRuns(dataDir);
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ job: CLI_INGEST_JOB, trigger: 'manual', status: 'ok', rows: rowsWritten, requests, error: null });
      const status = await gatherStatus({ dataDir, config: testConfig(), clock: new FixedClock(new Date('2026-10-03T00:00:00Z')) });
      expect(status.commandRuns).toEqual([
        { command: CLI_INGEST_JOB, lastRun: expect.objectContaining({ status: 'ok', trigger: 'manual', rows: rowsWritten }) },
      ]);
      expect(status.jobs.every((j) => j.lastRun === null)).toBe(true);
      expect(formatStatus(status)).toMatch(/run by hand \(last of each\):\n.*\n\s+cdrpipe ingest\s+\S+\s+ok/);
    } finally {
      await sim.close();
    }
  }, 60_000);
});
