/**
 * Every reader gives the same answers off the bucket as off a local lake: the same CDRs ingested
 * into both, then transform, reconcile, sql and status run on a data directory that has never
 * seen the lake (another machine) and compared with the local lake's results.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readStoreEnv } from '../../pipeline/config/index.ts';
import { runIngest } from '../../pipeline/extract/index.ts';
import { gatherStatus } from '../../pipeline/schedule/index.ts';
import { startSimulator } from '../../pipeline/simulator/index.ts';
import { NetSapiensClient } from '../../pipeline/source/index.ts';
import { createLakeStore, useLakeStore } from '../../pipeline/store/index.ts';
import { runQuery, runReconcile, runTransform } from '../../pipeline/transform/index.ts';
import { FixedClock, systemClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { startTestS3 } from '../support/s3-server.ts';
import { tempDir } from '../support/temp-dir.ts';
import { testConfig } from '../support/test-config.ts';

const s3 = await startTestS3();
const clock = new FixedClock(new Date('2026-11-27T12:00:00Z'));
const sim = await startSimulator({ port: 0, seed: 7, domains: 3, clock });
afterAll(() => sim.close());
const config = testConfig();
const logger = silentLogger();
const source = () =>
  NetSapiensClient.create({
    baseUrl: sim.url,
    auth: { kind: 'api-key', apiKey: 'k' },
    clock: systemClock,
    retry: { baseDelayMs: 1, maxDelayMs: 20, retryAfterCapMs: 100, maxAttempts: 5 },
    timeoutMs: 10_000,
  });

async function inBucket(dataDir: string): Promise<void> {
  useLakeStore(dataDir, await createLakeStore(readStoreEnv(s3.env('readers'))!, dataDir));
}

const ctx = (dataDir: string) => ({ dataDir, config, clock, logger });
const query = async (dataDir: string, sql: string) => (await runQuery({ dataDir, sql })).rows;

describe('readers off the bucket', () => {
  it('transform, reconcile, sql and status give what they give on a local lake', { timeout: 180_000 }, async () => {
    const root = await tempDir();
    const [local, writer, reader] = ['local', 'writer', 'reader'].map((d) => join(root, d)) as [string, string, string];
    await inBucket(writer);
    await inBucket(reader);
    const range = { from: new Date('2026-10-01T00:00:00Z'), to: new Date('2026-10-04T00:00:00Z') };
    for (const dataDir of [local, writer]) await runIngest({ ...ctx(dataDir), source: source(), ...range });

    for (const dataDir of [local, reader]) await runTransform(ctx(dataDir));
    const usage = 'SELECT * FROM usage_monthly ORDER BY ALL';
    expect((await query(reader, usage)).length).toBeGreaterThan(0);
    expect(await query(reader, usage)).toEqual(await query(local, usage));
    const calls = 'SELECT domain, count(*) AS n, sum(talk_s) AS talk FROM cdrs GROUP BY 1 ORDER BY 1';
    expect(await query(reader, calls)).toEqual(await query(local, calls));

    const [r1, r2] = await Promise.all(
      [local, reader].map((dataDir) => runReconcile({ ...ctx(dataDir), source: source(), month: '2026-10' })),
    );
    expect(r2!.rows.map((r) => ({ ...r, checkedAt: undefined }))).toEqual(r1!.rows.map((r) => ({ ...r, checkedAt: undefined })));

    const [s1, s2] = await Promise.all([local, reader].map((dataDir) => gatherStatus({ dataDir, config, clock })));
    expect(s2!.lake.files).toBe(s1!.lake.files);
    expect(s2!.lake.rows).toBe(s1!.lake.rows);
  });
});
