import { existsSync } from 'node:fs';
import { open, readFile, readdir, stat, truncate } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DamagedLakeError } from '../../pipeline/lake/damaged-files.ts';
import { PARTITION_FILE } from '../../pipeline/lake/lake-writer.ts';
import { lakeDir, partitionDir, quarantineDir } from '../../pipeline/lake/layout.ts';
import { withState } from '../../pipeline/state/state-db.ts';
import { readWatermarks } from '../../pipeline/state/watermarks.ts';
import { runReconcile } from '../../pipeline/transform/reconcile.ts';
import { runTransform } from '../../pipeline/transform/run-transform.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { lakeRows, NOW, OCT, startHarness, truthRows, type Harness } from '../extract/harness.ts';
import { deckConfig } from './lake-fixture.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Cuts a file to half its length, as a full disk or an interrupted copy leaves it. */
async function cutShort(file: string): Promise<void> {
  await truncate(file, Math.floor((await stat(file)).size / 2));
}

async function quarantined(dataDir: string): Promise<string[]> {
  const dir = quarantineDir(dataDir);
  if (!existsSync(dir)) return [];
  return (await readdir(dir, { recursive: true }))
    .map(String)
    .filter((f) => f.endsWith('.parquet'))
    .sort();
}

async function watermarkOf(dataDir: string, domain: string): Promise<string | undefined> {
  return withState(dataDir, async (db) => (await readWatermarks(db)).get(domain)?.toISOString());
}

/** Lake rows equal the simulator's records for October, every domain. */
async function expectOctoberWhole(harness: Harness): Promise<void> {
  const lake = (await lakeRows(harness.dir)).filter((r) => r.month === '2026-10');
  expect(lake.map((r) => ({ domain: r.domain, id: r.id, raw: r.raw }))).toEqual(truthRows(harness.sim, OCT));
}

describe('a damaged (truncated) lake file', () => {
  it('is moved aside by transform with the rebuild command; the next runs work and the next ingest rebuilds it', async () => {
    h = await startHarness({ now: NOW, domains: 1, medianCallsPerBusinessDay: 6 }, { initialBackfillDays: 58 });
    const first = await h.ingest();
    expect(first.failures).toEqual([]);
    const domain = String(h.sim.domains()[0]!.domain);
    const file = join(partitionDir(h.dir, '2026-10', domain), PARTITION_FILE);
    expect(await watermarkOf(h.dir, domain)).toBeDefined();
    await cutShort(file);
    const config = await deckConfig(h.dir);

    const err = await runTransform({ dataDir: h.dir, config, logger: silentLogger(), clock: h.clock }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DamagedLakeError);
    const message = (err as Error).message;
    expect(message).toContain(file);
    expect(message).toContain('truncated');
    expect(message).toContain(`cdrpipe ingest --from 2026-10-01 --to 2026-11-01 --domain ${domain}`);
    // Moved aside with its path under lake/ kept, and the reason beside it.
    const moved = await quarantined(h.dir);
    expect(moved).toHaveLength(1);
    expect(moved[0]).toMatch(new RegExp(`/${relative(lakeDir(h.dir), file).replaceAll('.', '\\.')}$`));
    expect(message).toContain(join(quarantineDir(h.dir), moved[0]!));
    const reason = JSON.parse(await readFile(join(quarantineDir(h.dir), `${moved[0]!}.reason.json`), 'utf8')) as Record<string, unknown>;
    expect(reason).toMatchObject({ file, domain, month: '2026-10' });
    expect(existsSync(file)).toBe(false);
    // The watermark no longer claims the lost rows are stored.
    expect(await watermarkOf(h.dir, domain)).toBe('2026-10-01T00:00:00.000Z');

    // Not wedged: the next transform builds (without the lost rows).
    const again = await runTransform({ dataDir: h.dir, config, logger: silentLogger(), clock: h.clock });
    expect(again.status).toBeDefined();
    // The next incremental ingest fetches the month again and rebuilds the partition.
    const rebuild = await h.ingest();
    expect(rebuild.failures).toEqual([]);
    await expectOctoberWhole(h);
  });

  it('fails one ingest that merges into it (with the same message), not every ingest', async () => {
    h = await startHarness({ now: NOW, domains: 1, medianCallsPerBusinessDay: 6 });
    expect((await h.ingest({ from: OCT.start, to: OCT.end })).failures).toEqual([]);
    const domain = String(h.sim.domains()[0]!.domain);
    const file = join(partitionDir(h.dir, '2026-10', domain), PARTITION_FILE);
    await cutShort(file);

    const broken = await h
      .ingest({ from: new Date('2026-10-10T00:00:00Z'), to: new Date('2026-10-11T00:00:00Z') })
      .catch((e: unknown) => e);
    expect(broken).toBeInstanceOf(Error);
    expect((broken as Error).message).toContain(`is damaged (truncated`);
    expect((broken as Error).message).toContain(`cdrpipe ingest --from 2026-10-01 --to 2026-11-01 --domain ${domain}`);
    expect(await quarantined(h.dir)).toHaveLength(1);

    const rebuilt = await h.ingest({ from: OCT.start, to: OCT.end, domains: [domain] });
    expect(rebuilt.failures).toEqual([]);
    await expectOctoberWhole(h);
  });

  it('is moved aside by reconcile, which then works again', async () => {
    h = await startHarness({ now: NOW, domains: 1, medianCallsPerBusinessDay: 6 });
    expect((await h.ingest({ from: OCT.start, to: OCT.end })).failures).toEqual([]);
    const domain = String(h.sim.domains()[0]!.domain);
    const file = join(partitionDir(h.dir, '2026-10', domain), PARTITION_FILE);
    const config = await deckConfig(h.dir);
    const reconcile = () =>
      runReconcile({ dataDir: h!.dir, config, source: h!.client(), month: '2026-10', logger: silentLogger(), clock: h!.clock });
    const before = (await reconcile()).rows.find((r) => r.domain === domain)!.lakeTotal;
    expect(before).toBeGreaterThan(0);
    await cutShort(file);

    const err = await reconcile().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DamagedLakeError);
    expect((err as Error).message).toContain(`cdrpipe ingest --from 2026-10-01 --to 2026-11-01 --domain ${domain}`);
    // Reads again: the lost CDRs show as missing from the lake until they are ingested again.
    const off = await reconcile();
    expect(off.rows.find((r) => r.domain === domain)?.status).toBe('off');
    await h.ingest({ from: OCT.start, to: OCT.end, domains: [domain] });
    expect((await reconcile()).rows.find((r) => r.domain === domain)?.lakeTotal).toBe(before);
  });

  it('with a whole frame but a footer DuckDB cannot decode is found once a read fails, and moved aside the same way', async () => {
    h = await startHarness({ now: NOW, domains: 1, medianCallsPerBusinessDay: 6 });
    expect((await h.ingest({ from: OCT.start, to: OCT.end })).failures).toEqual([]);
    const domain = String(h.sim.domains()[0]!.domain);
    const file = join(partitionDir(h.dir, '2026-10', domain), PARTITION_FILE);
    // Scramble the footer, keep its length and both PAR1 markers.
    const fh = await open(file, 'r+');
    try {
      const { size } = await fh.stat();
      const tail = Buffer.alloc(8);
      await fh.read(tail, 0, 8, size - 8);
      const footer = tail.readUInt32LE(0);
      await fh.write(Buffer.alloc(footer, 0xff), 0, footer, size - 8 - footer);
    } finally {
      await fh.close();
    }
    const err = await runTransform({ dataDir: h.dir, config: await deckConfig(h.dir), logger: silentLogger(), clock: h.clock }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DamagedLakeError);
    expect((err as Error).message).toContain('unreadable footer');
    expect(await quarantined(h.dir)).toHaveLength(1);
  });
});
