/**
 * DuckDB's httpfs is detected by loading it, never by installing it: where it is absent (an empty
 * extension directory, and this machine) the answer is "not available" with DuckDB's reason and
 * nothing is downloaded; `status` on a lake in a bucket says which way readers reach it.
 */
import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { readStoreEnv } from '../../pipeline/config/index.ts';
import { detectHttpfs } from '../../pipeline/db/httpfs.ts';
import { formatStatus, gatherStatus } from '../../pipeline/schedule/index.ts';
import { createLakeStore, useLakeStore } from '../../pipeline/store/index.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { startTestS3 } from '../support/s3-server.ts';
import { tempDir } from '../support/temp-dir.ts';
import { testConfig } from '../support/test-config.ts';

describe('httpfs detection', () => {
  it('an extension directory without httpfs: not available, with the reason, and nothing downloaded into it', async () => {
    const dir = await tempDir();
    const check = await detectHttpfs({ extensionDirectory: dir });
    expect(check.available).toBe(false);
    expect(check.reason).toMatch(/httpfs/);
    expect(await readdir(dir, { recursive: true })).toEqual([]);
  });

  it('status on a lake in a bucket names the bucket and the way readers reach it', async () => {
    const s3 = await startTestS3();
    const dataDir = await tempDir();
    useLakeStore(dataDir, await createLakeStore(readStoreEnv(s3.env('status'))!, dataDir));
    try {
      const report = await gatherStatus({ dataDir, config: testConfig(), clock: new FixedClock(new Date('2026-11-27T12:00:00Z')) });
      const here = await detectHttpfs();
      expect(report.bucket).toEqual({
        url: 's3://lake/status/',
        httpfs: here.available,
        ...(here.reason ? { httpfsReason: here.reason } : {}),
      });
      expect(formatStatus(report)).toContain(
        here.available
          ? 's3://lake/status/, read through the local copy; DuckDB'
          : "s3://lake/status/, read through the local copy; DuckDB's httpfs is not loadable here",
      );
    } finally {
      useLakeStore(dataDir, undefined);
    }
  });
});
