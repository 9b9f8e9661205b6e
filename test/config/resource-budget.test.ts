/** The memory budget: validated, and turned into DuckDB limits, lanes and requests that grow with it. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BASE_PROCESS_MIB, duckdbSettings, queryThreads, resourceBudget } from '../../pipeline/config/resource-budget.ts';
import { Db } from '../../pipeline/db/duckdb.ts';
import { ConfigError, exitCodeOf } from '../../pipeline/util/errors.ts';
import { tempDir } from '../support/temp-dir.ts';
import { testConfig } from '../support/test-config.ts';

describe('resources.memoryMiB', () => {
  it('defaults to 512 and refuses a budget below what a process needs to start (exit 2, naming the field)', () => {
    expect(testConfig().resources.memoryMiB).toBe(512);
    let err: unknown;
    try {
      testConfig({ resources: { memoryMiB: 64 } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(exitCodeOf(err)).toBe(2);
    expect(String((err as Error).message)).toMatch(/resources\.memoryMiB/);
    expect(() => testConfig({ resources: { memoryMiB: 512.5 } })).toThrow(/resources\.memoryMiB/);
  });

  it('derives DuckDB limits, writer lanes and requests in flight that never shrink as the budget grows', () => {
    const budgets = [192, 256, 384, 512, 1024, 4096].map(resourceBudget);
    for (const [a, b] of budgets.slice(1).map((b, i) => [budgets[i]!, b] as const)) {
      expect(b.queryDuckdbMiB).toBeGreaterThanOrEqual(a.queryDuckdbMiB);
      expect(b.writerDuckdbMiB).toBeGreaterThanOrEqual(a.writerDuckdbMiB);
      expect(b.writerLanes).toBeGreaterThanOrEqual(a.writerLanes);
      expect(b.maxRequestsInFlight).toBeGreaterThanOrEqual(a.maxRequestsInFlight);
    }
    for (const b of budgets) {
      expect(b.queryDuckdbMiB).toBeLessThan(b.memoryMiB);
      expect(b.writerDuckdbMiB).toBeLessThan(b.memoryMiB);
      expect(b.maxRequestsInFlight).toBeGreaterThanOrEqual(1);
    }
    // The shipped default keeps two writer lanes and the documented concurrency of 8.
    expect(resourceBudget(512).writerLanes).toBe(2);
    expect(resourceBudget(512).maxRequestsInFlight).toBeGreaterThanOrEqual(8);
  });

  it("derives the ingest's page garbage between full heap collections from the budget: a fixed share, never the run's size", () => {
    const at = (mib: number) => resourceBudget(mib).ingestGarbageMiB;
    expect(at(512)).toBe(Math.floor((512 - BASE_PROCESS_MIB) * 0.05));
    expect(at(4096)).toBe(Math.floor((4096 - BASE_PROCESS_MIB) * 0.05));
    // A tight budget still reads several pages (~1.6 MiB each) between collections.
    expect(at(192)).toBe(8);
    for (const mib of [192, 256, 512, 1024, 4096]) expect(at(mib)).toBeLessThan(mib - BASE_PROCESS_MIB);
  });

  it("derives a report run's row garbage between full heap collections from the budget, never the month's size", () => {
    const at = (mib: number) => resourceBudget(mib).reportGarbageMiB;
    expect(at(512)).toBe(Math.floor((512 - BASE_PROCESS_MIB) * 0.1));
    expect(at(192)).toBe(16);
    for (const mib of [192, 256, 512, 1024, 4096]) expect(at(mib)).toBeLessThan(mib - BASE_PROCESS_MIB);
  });

  it("applies the query share to DuckDB, which spills under the data directory's tmp/duckdb", async () => {
    const dataDir = await tempDir('cdrpipe-budget-');
    const settings = duckdbSettings(testConfig({ resources: { memoryMiB: 256 } }), dataDir);
    expect(settings.temp_directory).toBe(join(dataDir, 'tmp', 'duckdb'));
    const db = await Db.open(':memory:', { settings });
    try {
      const row = await db.one<{ limit: string; temp: string }>(
        `SELECT current_setting('memory_limit') AS "limit", current_setting('temp_directory') AS temp`,
      );
      expect(row?.temp).toBe(join(dataDir, 'tmp', 'duckdb'));
      // DuckDB reports the limit in its own units (e.g. "63.0 MiB"): the budget's share, not 80% of RAM.
      expect(row?.limit).toMatch(new RegExp(`^${resourceBudget(256).queryDuckdbMiB}(\\.0)? ?MiB$`));
    } finally {
      db.close();
    }
  });

  it('gives a query process as many DuckDB threads as its memory share feeds, at least one, at most the cores', () => {
    expect(queryThreads(resourceBudget(512).queryDuckdbMiB, 2)).toBe(1);
    expect(queryThreads(resourceBudget(1024).queryDuckdbMiB, 2)).toBe(2);
    expect(queryThreads(resourceBudget(4096).queryDuckdbMiB, 2)).toBe(2);
    expect(queryThreads(resourceBudget(4096).queryDuckdbMiB, 16)).toBe(14);
    expect(queryThreads(48, 8)).toBe(1);
    expect(duckdbSettings(testConfig({ resources: { memoryMiB: 512 } }), '/nonexistent-cdrpipe-test').threads).toBe('1');
  });

  it('spills in a data directory that has no tmp/ yet (a lake copied in, never ingested into)', async () => {
    const dataDir = await tempDir('cdrpipe-budget-');
    const db = await Db.open(':memory:', {
      settings: { ...duckdbSettings(testConfig({ resources: { memoryMiB: 256 } }), dataDir), memory_limit: '48MiB', threads: '1' },
    });
    try {
      // A sort several times the memory limit must spill to tmp/duckdb.
      const row = await db.one<{ n: number }>(
        `SELECT count(*)::INTEGER AS n FROM (SELECT i, repeat('x', 40) || i AS pad FROM range(3000000) t(i) ORDER BY hash(i), pad)`,
      );
      expect(row?.n).toBe(3_000_000);
    } finally {
      db.close();
    }
  });
});
