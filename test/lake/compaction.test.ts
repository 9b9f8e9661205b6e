import { cp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db, sqlString } from '../../pipeline/db/duckdb.ts';
import { runCompact } from '../../pipeline/extract/index.ts';
import {
  compactLake,
  countedRowsSql,
  domainGroups,
  lakeDdl,
  LakeWriter,
  monthPartitions,
  parseLakeLocation,
} from '../../pipeline/lake/index.ts';
import { encodeValues, spoolFileName } from '../../pipeline/lake/spool-format.ts';
import { createCdrsView } from '../../pipeline/transform/lake-views.ts';
import { lakeFigures } from '../../pipeline/transform/reconcile-lake.ts';
import { UsageError } from '../../pipeline/util/errors.ts';
import { NOW, startHarness, type Harness } from '../extract/harness.ts';

const LONG = `${'a'.repeat(62)}.${'b'.repeat(62)}.${'c'.repeat(62)}.${'d'.repeat(50)}.example`;
const OCT_DIR = (dir: string) => join(dir, 'lake', 'cdrs', 'month=2026-10');

let h: Harness;
let seq = 0;

/** Writes CDRs into one domain's October partition the way ingest does (merge by id). */
async function writeOctober(dir: string, domain: string, cdrs: Record<string, unknown>[]): Promise<void> {
  const writer = await LakeWriter.open(dir, { workDir: join(dir, 'work') });
  try {
    const f = join(dir, 'work', spoolFileName(++seq, false));
    await writeFile(f, encodeValues(cdrs));
    await writer.writePartition({
      domain,
      month: '2026-10',
      range: { start: new Date('2026-10-01T00:00:00Z'), end: new Date('2026-11-01T00:00:00Z') },
      files: [f],
      ingestedAt: new Date(`2026-11-27T12:00:${String(seq).padStart(2, '0')}Z`),
    });
  } finally {
    await writer.close();
  }
}

/** The rows every reader counts (transform's `cdrs` view), in a fixed order, as text. */
async function countedRows(dir: string): Promise<string[]> {
  const db = await Db.open(':memory:');
  try {
    await createCdrsView(db, dir);
    const rows = await db.all<{ r: string }>(
      `SELECT concat_ws('|', domain, month, id, raw::VARCHAR, ingested_at::VARCHAR) AS r FROM cdrs ORDER BY 1`,
    );
    return rows.map((x) => x.r);
  } finally {
    db.close();
  }
}

/** The DuckDB statements of `cdrpipe lake ddl`, run on the lake: the same rows as the transform's view. */
async function ddlRows(dir: string): Promise<string[]> {
  const db = await Db.open(':memory:');
  try {
    await db.run(lakeDdl({ engine: 'duckdb', location: parseLakeLocation(join(dir, 'lake')) }));
    const rows = await db.all<{ r: string }>(
      `SELECT concat_ws('|', domain, month, id, raw::VARCHAR, ingested_at::VARCHAR) AS r FROM cdrs ORDER BY 1`,
    );
    // The rule as ClickHouse gets it (NOT IN lists instead of anti-joins): the same rows.
    await db.run(`CREATE VIEW cdrs_in_lists AS ${countedRowsSql('cdrs_files', ['id', 'raw', 'ingested_at'], { form: 'in-lists' })}`);
    const same = await db.all<{ r: string }>(
      `SELECT concat_ws('|', domain, month, id, raw::VARCHAR, ingested_at::VARCHAR) AS r FROM cdrs_in_lists ORDER BY 1`,
    );
    expect(same.map((x) => x.r)).toEqual(rows.map((x) => x.r));
    return rows.map((x) => x.r);
  } finally {
    db.close();
  }
}

const compact = (dir: string, months?: string[]) => runCompact({ dataDir: dir, minAgeDays: 7, now: NOW, months });

beforeAll(async () => {
  h = await startHarness({ now: NOW, domains: 4 });
  await h.ingest({ from: new Date('2026-10-28T00:00:00Z'), to: new Date('2026-11-02T00:00:00Z') });
  await writeOctober(h.dir, LONG, [
    { id: 'long-1', 'call-start-datetime': '2026-10-03T00:10:00Z', 'call-direction': 0, 'call-total-duration-seconds': 9 },
  ]);
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('lake compact', () => {
  let before: string[];
  let domains: string[];

  it('rewrites a closed month as a few files sorted by domain, every counted row unchanged', async () => {
    before = await countedRows(h.dir);
    domains = monthPartitions(h.dir, '2026-10').domains;
    expect(domains.length).toBe(5);
    const [result, ...others] = await compact(h.dir);
    // November has not been closed for 7 days: it keeps its per-domain partitions.
    expect(others).toEqual([]);
    expect(result).toMatchObject({
      month: '2026-10',
      changed: true,
      generation: 1,
      partitionsFolded: 5,
      generationsRemoved: 0,
      domains: 5,
    });
    const parts = monthPartitions(h.dir, '2026-10');
    expect(parts.domains).toEqual([]);
    expect(parts.generations).toHaveLength(1);
    expect(parts.generations[0]!.files.length).toBeGreaterThanOrEqual(1);
    expect(parts.generations[0]!.files.length).toBeLessThanOrEqual(16);
    expect(monthPartitions(h.dir, '2026-11').domains.length).toBeGreaterThan(0);
    expect(await countedRows(h.dir)).toEqual(before);
    expect(await ddlRows(h.dir)).toEqual(before);
    const db = await Db.open(':memory:');
    try {
      const files = parts.generations[0]!.files.map(sqlString).join(', ');
      const [order] = await db.all<{ unsorted: number }>(
        `SELECT count(*) FILTER (WHERE prev > domain_name)::INTEGER AS unsorted FROM (
           SELECT domain_name, lag(domain_name) OVER (ORDER BY file_row_number) AS prev FROM read_parquet([${files}], file_row_number = true))`,
      );
      expect(order!.unsorted).toBe(0);
    } finally {
      db.close();
    }
  });

  it('is idempotent: a second run changes nothing', async () => {
    const gen = monthPartitions(h.dir, '2026-10').generations[0]!;
    const mtimes = await Promise.all(gen.files.map(async (f) => (await stat(f)).mtimeMs));
    expect(await compact(h.dir)).toEqual([]);
    expect(await compact(h.dir, ['2026-10'])).toEqual([]);
    expect(await Promise.all(gen.files.map(async (f) => (await stat(f)).mtimeMs))).toEqual(mtimes);
  });

  it('takes a late CDR for a compacted month: the domain gets its partition back, whole, and nothing counts twice', async () => {
    const domain = domains.find((d) => !d.includes('~'))!;
    const [existing] = before.filter((r) => r.startsWith(`${decodeURIComponent(domain)}|2026-10|`));
    expect(existing).toBeDefined();
    const [, , id, raw] = existing!.split('|');
    const updated = { ...(JSON.parse(raw!) as Record<string, unknown>), 'call-disconnect-reason-text': 'updated late' };
    await writeOctober(h.dir, decodeURIComponent(domain), [
      updated,
      { id: 'late-1', 'call-start-datetime': '2026-10-03T00:20:00Z', 'call-direction': 0, 'call-total-duration-seconds': 30 },
    ]);
    expect(monthPartitions(h.dir, '2026-10').domains).toEqual([domain]);
    const after = await countedRows(h.dir);
    expect(after.length).toBe(before.length + 1);
    expect(after.filter((r) => r.split('|')[2] === id && r.startsWith(`${decodeURIComponent(domain)}|`))).toHaveLength(1);
    expect(after.some((r) => r.includes('updated late'))).toBe(true);
    expect(await ddlRows(h.dir)).toEqual(after);
    // Reconciliation reads the domain's own partition now, and the compacted files for the others.
    const db = await Db.open(':memory:');
    try {
      const oct = { s: new Date('2026-10-01T00:00:00Z'), e: new Date('2026-11-01T00:00:00Z') };
      const mine = await lakeFigures(db, h.dir, decodeURIComponent(domain), '2026-10', oct.s, oct.e, NOW);
      expect(mine.lakeTotal).toBe(after.filter((r) => r.startsWith(`${decodeURIComponent(domain)}|2026-10|`)).length);
      expect(mine.duplicateIds).toBe(0);
      const other = domains.find((d) => d !== domain && !d.includes('~'))!;
      const theirs = await lakeFigures(db, h.dir, decodeURIComponent(other), '2026-10', oct.s, oct.e, NOW);
      expect(theirs.lakeTotal).toBe(after.filter((r) => r.startsWith(`${decodeURIComponent(other)}|2026-10|`)).length);
      expect(theirs.lakeTotal).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  });

  it('folds the late partition back in, and every state on the way reads the same rows', async () => {
    const expected = await countedRows(h.dir);
    const backup = `${h.dir}-backup`;
    await cp(OCT_DIR(h.dir), backup, { recursive: true });
    const [r] = await compact(h.dir);
    expect(r).toMatchObject({ month: '2026-10', changed: true, generation: 2, partitionsFolded: 1, generationsRemoved: 1 });
    expect(await countedRows(h.dir)).toEqual(expected);
    // A compaction killed right after publishing its generation leaves the old generation and the
    // folded partition beside the new one: readers still count each row once.
    for (const name of await readdir(backup)) await cp(join(backup, name), join(OCT_DIR(h.dir), name), { recursive: true });
    const torn = monthPartitions(h.dir, '2026-10');
    expect(torn.generations.map((g) => g.generation)).toEqual([1, 2]);
    expect(torn.domains).toHaveLength(1);
    expect(await countedRows(h.dir)).toEqual(expected);
    expect(await ddlRows(h.dir)).toEqual(expected);
    // The next run tidies up.
    const [again] = await compact(h.dir);
    expect(again).toMatchObject({ generation: 3, partitionsFolded: 1, generationsRemoved: 2 });
    expect(await countedRows(h.dir)).toEqual(expected);
    await rm(backup, { recursive: true, force: true });
  });

  it('takes a late CDR for a long domain name (a short partition name): every view counts its rows once', async () => {
    const expected = await countedRows(h.dir);
    await writeOctober(h.dir, LONG, [
      { id: 'long-late', 'call-start-datetime': '2026-10-04T00:10:00Z', 'call-direction': 0, 'call-total-duration-seconds': 12 },
    ]);
    const own = monthPartitions(h.dir, '2026-10').domains;
    expect(own).toHaveLength(1);
    expect(own[0]).toContain('~');
    const after = await countedRows(h.dir);
    expect(after.length).toBe(expected.length + 1);
    expect(after.filter((r) => r.startsWith(`${LONG}|2026-10|long-1|`))).toHaveLength(1);
    expect(await ddlRows(h.dir)).toEqual(after);
  });

  it('refuses a month that is not closed, with a usage error', async () => {
    await expect(compactLake({ dataDir: h.dir, workDir: join(h.dir, 'w'), now: NOW, minAgeDays: 7, months: ['2026-11'] })).rejects.toThrow(
      UsageError,
    );
    await expect(compactLake({ dataDir: h.dir, workDir: join(h.dir, 'w'), now: NOW, minAgeDays: 7, months: ['2026-13'] })).rejects.toThrow(
      /expected YYYY-MM/,
    );
  });
});

describe('domainGroups', () => {
  it('cuts domains in order into at most k runs of about equal rows, never splitting a domain', () => {
    const per = Array.from({ length: 100 }, (_, i) => ({ d: `d${String(i).padStart(3, '0')}`, n: i % 7 === 0 ? 500 : 10 }));
    for (const k of [1, 3, 16]) {
      const g = domainGroups(per, k);
      expect(g.length).toBeLessThanOrEqual(k);
      expect(g.reduce((s, x) => s + x.rows, 0)).toBe(per.reduce((s, x) => s + x.n, 0));
      for (let i = 1; i < g.length; i++) expect(g[i]!.first > g[i - 1]!.last).toBe(true);
    }
    expect(domainGroups(per, 16).length).toBeGreaterThan(8);
  });
});
