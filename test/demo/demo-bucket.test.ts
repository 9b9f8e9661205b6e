/**
 * `cdrpipe demo --s3`: the whole demo with the lake in a bucket on a loopback S3 server started
 * for the run. Every job succeeds, every partition and the carrier's import are objects in the
 * bucket (kept on disk by the server after it stops), and the data directory's lake/ is a copy.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_LAKE_URL, formatDemoSummary, runDemoInBucket } from '../../pipeline/schedule/index.ts';
import { lakeStoreFor } from '../../pipeline/store/index.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { testEnv } from '../schedule/helpers.ts';
import { tempDir } from '../support/temp-dir.ts';
import { testConfig } from '../support/test-config.ts';

describe('cdrpipe demo --s3', () => {
  it('runs every job against the bucket, leaves the objects with the stopped server and a copy in lake/', async () => {
    const dataDir = await tempDir('cdrpipe-demo-s3-');
    const clock = new FixedClock(new Date('2026-11-10T15:00:00Z'));
    const s = await runDemoInBucket({
      dataDir,
      config: testConfig(),
      env: testEnv(dataDir),
      clock,
      logger: silentLogger(),
      simulator: { seed: 5, domains: 2, volume: 0.3, faults: { seed: 3 } },
    });
    expect(s.runs.map((r) => [r.jobName, r.status, r.error])).toEqual([
      ['ingest', 'ok', undefined],
      ['monthly-reports', 'ok', undefined],
      ['reconcile', 'ok', undefined],
    ]);
    const b = s.bucket;
    expect(b.url).toBe(DEMO_LAKE_URL);
    expect(b.cdrObjects).toBeGreaterThan(0);
    expect(b.cdrObjects).toBe(s.lake.files);
    expect(b.uploads).toBeGreaterThanOrEqual(b.cdrObjects);
    // The cost side read the carrier's import back off the bucket.
    expect(s.cost?.error).toBeUndefined();
    expect(s.cost?.line?.records).toBeGreaterThan(0);
    expect(s.outboxFiles).toBeGreaterThan(0);

    // The server is gone, its objects are not: the partitions and the carrier import are stored under the data directory.
    expect(lakeStoreFor(dataDir)).toBeUndefined();
    const stored = ((await readdir(b.serverDir, { recursive: true })) as string[]).map((n) => n.split('\\').join('/'));
    expect(stored.filter((n) => /cdrpipe-demo\/lake\/cdrs\/month=.*\.parquet\._S3rver_object$/.test(n)).length).toBe(b.cdrObjects);
    expect(stored.some((n) => /cdrpipe-demo\/lake\/carrier_imports\/.*\.json\._S3rver_object$/.test(n))).toBe(true);
    expect((await readFile(join(dataDir, 'lake', '.bucket'), 'utf8')).trim()).toBe(DEMO_LAKE_URL);
    expect(existsSync(join(dataDir, 'lake', 'carrier_cdrs'))).toBe(true);

    const text = formatDemoSummary(s, { defaultDataDir: dataDir });
    expect(text).toContain(`bucket     ${DEMO_LAKE_URL} on the local S3 server at ${b.endpoint} (stopped now): ${b.objects} objects`);
    expect(text).toContain('is the local copy');
  }, 180_000);
});
