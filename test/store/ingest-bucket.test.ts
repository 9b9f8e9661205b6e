import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readStoreEnv } from '../../pipeline/config/index.ts';
import { Db, sqlString } from '../../pipeline/db/duckdb.ts';
import { startSimulator } from '../../pipeline/simulator/index.ts';
import type { ObjectInfo } from '../../pipeline/store/index.ts';
import { LakeBucket } from '../../pipeline/store/bucket.ts';
import { createS3Client } from '../../pipeline/store/s3-client.ts';
import { runCli, spawnCli } from '../support/cli.ts';
import { startTestS3 } from '../support/s3-server.ts';
import { tempDir } from '../support/temp-dir.ts';

const s3 = await startTestS3();
const sim = await startSimulator({ port: 0, seed: 11, domains: 2 });
afterAll(() => sim.close());
const PREFIX = 'acme/lake';

function bucket(): LakeBucket {
  const e = readStoreEnv(s3.env(PREFIX))!;
  return new LakeBucket(createS3Client(e), e.lake, { endpoint: e.endpoint });
}
const env = (dataDir: string, extra: Record<string, string> = {}) => ({
  CDRPIPE_DATA_DIR: dataDir,
  NS_API_URL: sim.url,
  NS_API_KEY: 'k',
  ...s3.env(PREFIX),
  ...extra,
});
const partitions = async (): Promise<ObjectInfo[]> => (await bucket().list('cdrs/')).sort((a, b) => a.rel.localeCompare(b.rel));
const cdrPuts = () => s3.requests.filter((r) => r.startsWith(`PUT ${PREFIX}/cdrs/`)).length;

/** Every file under `dir` with its bytes, by relative path. */
async function treeOf(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out[join(e.parentPath, e.name).slice(dir.length + 1)] = (await readFile(join(e.parentPath, e.name))).toString('base64');
  }
  return out;
}

/** Rows of one object, read back from the bucket. */
async function rowsOf(rel: string): Promise<number> {
  const dir = await tempDir();
  const file = join(dir, 'o.parquet');
  await bucket().download(rel, file);
  const db = await Db.open(':memory:');
  try {
    return Number((await db.one<{ n: bigint }>(`SELECT count(*) AS n FROM read_parquet(${sqlString(file)})`))?.n);
  } finally {
    db.close();
  }
}

describe('cdrpipe ingest with the lake in a bucket', () => {
  let first: ObjectInfo[] = [];

  it('writes the partitions as objects under the prefix, in the local layout', async () => {
    const dataDir = join(await tempDir(), 'data');
    const r = await runCli(['ingest', '--from', '2026-10-01', '--to', '2026-10-03'], { env: env(dataDir) });
    expect(r.code, r.output).toBe(0);
    first = await partitions();
    expect(first.length).toBe(2);
    for (const o of first) expect(o.rel).toMatch(/^cdrs\/month=2026-10\/domain=[^/]+\/data\.parquet$/);
    expect((await bucket().list('domains/')).map((o) => o.rel)).toEqual(['domains/domains.parquet']);
    expect(await rowsOf(first[0]!.rel)).toBeGreaterThan(0);
  });

  it(
    'a data directory holding the local copy of a bucket is not written without CDRPIPE_LAKE_URL: writers exit 2, readers are told it may be partial',
    { timeout: 180_000 },
    async () => {
      const dataDir = join(await tempDir(), 'data');
      const made = await runCli(['ingest', '--from', '2026-10-01', '--to', '2026-10-02'], { env: env(dataDir) });
      expect(made.code, made.output).toBe(0);
      const before = await treeOf(join(dataDir, 'lake'));
      expect(Object.keys(before)).toContain('.bucket');
      const plain = { CDRPIPE_DATA_DIR: dataDir, NS_API_URL: sim.url, NS_API_KEY: 'k' };
      for (const args of [
        ['ingest', '--from', '2026-10-01', '--to', '2026-10-03'],
        ['lake', 'compact', '--month', '2026-10'],
      ]) {
        const r = await runCli(args, { env: plain });
        expect(r.code, r.output).toBe(2);
        expect(r.stderr).toContain(`local copy of the lake in s3://`);
        expect(r.stderr).toContain('CDRPIPE_LAKE_URL=');
      }
      const status = await runCli(['status'], { env: plain });
      expect(status.code, status.output).toBe(0);
      expect(status.stderr).toMatch(/local copy of the lake in s3:\/\/\S+ as last refreshed .* may be partial/);
      expect(await treeOf(join(dataDir, 'lake'))).toEqual(before);
    },
  );

  it('re-ingest of unchanged partitions, from another machine (an empty data directory), rewrites nothing', async () => {
    const dataDir = join(await tempDir(), 'data');
    const puts = cdrPuts();
    const r = await runCli(['ingest', '--from', '2026-10-01', '--to', '2026-10-03'], { env: env(dataDir) });
    expect(r.code, r.output).toBe(0);
    expect(cdrPuts()).toBe(puts);
    expect(await partitions()).toEqual(first);
  });

  it('a run killed while uploading leaves the previous object; the next run completes the write', { timeout: 180_000 }, async () => {
    const dataDir = join(await tempDir(), 'data');
    const target = first[0]!;
    const rowsBefore = await rowsOf(target.rel);
    const held = s3.holdNext((r) => r.method === 'PUT' && r.key === `${PREFIX}/${target.rel}`);
    const run = spawnCli(['ingest', '--from', '2026-10-01', '--to', '2026-10-06'], { env: env(dataDir) });
    const release = await held;
    run.child.kill('SIGKILL');
    await run.exited;
    release();
    expect((await bucket().head(target.rel))?.etag).toBe(target.etag);
    expect(await rowsOf(target.rel)).toBe(rowsBefore);
    const again = await runCli(['ingest', '--from', '2026-10-01', '--to', '2026-10-06'], { env: env(dataDir) });
    expect(again.code, again.output).toBe(0);
    expect((await bucket().head(target.rel))?.etag).not.toBe(target.etag);
    expect(await rowsOf(target.rel)).toBeGreaterThan(rowsBefore);
  });

  it('retries 503 SlowDown answers and finishes', async () => {
    const dataDir = join(await tempDir(), 'data');
    s3.failNext(3, (r) => r.key.startsWith(`${PREFIX}/cdrs/`));
    const r = await runCli(['ingest', '--from', '2026-10-06', '--to', '2026-10-08'], { env: env(dataDir) });
    expect(r.code, r.output).toBe(0);
  });

  it('wrong credentials and a missing bucket end with exit 2 and say what to fix, without the secret', { timeout: 180_000 }, async () => {
    const dataDir = join(await tempDir(), 'data');
    const wrong = await runCli(['ingest', '--from', '2026-10-01', '--to', '2026-10-02'], {
      env: env(dataDir, { AWS_ACCESS_KEY_ID: 'AKIAWRONG', AWS_SECRET_ACCESS_KEY: 'not-the-secret-42' }),
    });
    expect(wrong.code, wrong.output).toBe(2);
    expect(wrong.stderr).toMatch(/was refused \(HTTP 403\): check AWS_ACCESS_KEY_ID/);
    expect(wrong.output).not.toContain('not-the-secret-42');
    const missing = await runCli(['ingest', '--from', '2026-10-01', '--to', '2026-10-02'], {
      env: env(dataDir, { CDRPIPE_LAKE_URL: 's3://no-such-lake/x' }),
    });
    expect(missing.code, missing.output).toBe(2);
    expect(missing.stderr).toMatch(/bucket "no-such-lake" does not exist/);
    const bad = await runCli(['status'], { env: env(dataDir, { CDRPIPE_LAKE_URL: 'https://lake.example.com/x' }) });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/CDRPIPE_LAKE_URL must be s3:\/\/bucket/);
  });
});
