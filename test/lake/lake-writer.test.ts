import { readdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dir.ts';
import { Db, sqlString } from '../../pipeline/db/duckdb.ts';
import { cdrsGlob, domainsDir, partitionDir, rejectsDir } from '../../pipeline/lake/layout.ts';
import { LakeWriter, PARTITION_FILE } from '../../pipeline/lake/lake-writer.ts';
import { byteSpansByParsing, encodeRecords, encodeValues, spoolFileName } from '../../pipeline/lake/spool-format.ts';

let dir: string;
let writer: LakeWriter;
let seq = 0;

beforeEach(async () => {
  dir = await tempDir('cdrpipe-lake-');
  writer = await LakeWriter.open(dir, { workDir: join(dir, 'work') });
});
afterEach(async () => {
  await writer.close();
});

function cdr(id: string, start: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    domain: 'ignored.example',
    'call-start-datetime': start,
    'call-answer-datetime': null,
    'call-disconnect-datetime': start,
    'call-total-duration-seconds': 60,
    'call-talking-duration-seconds': '42',
    'call-direction': 0,
    'call-orig-user': 1001,
    'call-term-user': null,
    'call-orig-caller-id': '2125550100',
    'call-orig-to-user': '13105550199',
    ...extra,
  };
}

/** A spool file as the ingest writes one: `body` (a page as the server sent it) cut into its records, or `records` serialised. */
async function spool(records: unknown[], body?: string): Promise<string> {
  const p = join(dir, 'work', spoolFileName(++seq, false));
  const spans = body === undefined ? undefined : byteSpansByParsing(body);
  if (body !== undefined && !spans) throw new Error('test page is not an array of objects');
  await writeFile(
    p,
    spans && body !== undefined ? encodeRecords(Buffer.from(body), spans, [...Array(spans.length / 2).keys()]) : encodeValues(records),
  );
  return p;
}

const win = (a: string, b: string) => ({ start: new Date(a), end: new Date(b) });

async function lakeRows(where = ''): Promise<Record<string, unknown>[]> {
  const db = await Db.open(':memory:');
  try {
    return await db.all(
      `SELECT * EXCLUDE (raw), raw::VARCHAR AS raw FROM read_parquet(${sqlString(cdrsGlob(dir))}, hive_partitioning = true) ${where} ORDER BY domain, id`,
    );
  } finally {
    db.close();
  }
}

describe('LakeWriter.writePartition', () => {
  it('types every datetime form, numeric strings and directions, and keeps raw text exactly', async () => {
    const body = `[ {"id": "a", "call-start-datetime": "2026-10-05 10:00:00", "call-direction": 1, "call-total-duration-seconds": "61", "x": 1.50},
      {"id":"b","call-start-datetime":"2026-10-05T10:00:00Z","call-direction":"2","call-answer-datetime":"2026-10-05T03:00:05-07:00"},
      {"id":"c","call-start-datetime":"2026-10-05T03:00:00-07:00[America/Los_Angeles]","call-direction":3,"call-disconnect-datetime":"2026-10-05T03:01:00[America/Los_Angeles]"},
      {"id":12345678901234567890,"call-start-datetime":"2026-10-05T10:00:00.500+00:00","call-direction":0,"call-orig-from-user":"777","call-orig-request-user":"888"} ]`;
    const f = await spool([], body);
    const res = await writer.writePartition({
      domain: 'acme.example',
      month: '2026-10',
      range: win('2026-10-01', '2026-11-01'),
      files: [f],
      ingestedAt: new Date('2026-11-02T00:00:00Z'),
    });
    expect(res).toMatchObject({ rowsInRange: 4, rowsTotal: 4, changed: true });
    const rows = await lakeRows();
    expect(rows.map((r) => [r.id, r.start_time, r.direction])).toEqual([
      ['12345678901234567890', '2026-10-05 10:00:00.5+00', 'outbound'],
      ['a', '2026-10-05 10:00:00+00', 'inbound'],
      ['b', '2026-10-05 10:00:00+00', 'missed'],
      ['c', '2026-10-05 10:00:00+00', 'internal'],
    ]);
    const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
    expect(byId.a!.duration_s).toBe(61);
    expect(byId.a!.raw).toBe(
      '{"id": "a", "call-start-datetime": "2026-10-05 10:00:00", "call-direction": 1, "call-total-duration-seconds": "61", "x": 1.50}',
    );
    expect(byId.b!.answer_time).toBe('2026-10-05 10:00:05+00');
    expect(byId.c!.end_time).toBe('2026-10-05 10:01:00+00');
    expect(byId['12345678901234567890']!.caller_number).toBe('777');
    expect(byId['12345678901234567890']!.dialed_number).toBe('888');
    expect(rows.every((r) => r.domain === 'acme.example' && r.month === '2026-10')).toBe(true);
    expect(await readdir(partitionDir(dir, '2026-10', 'acme.example'))).toEqual([PARTITION_FILE]);
  });

  it('upserts the written range, keeps the latest copy of a duplicate id, and skips identical rewrites', async () => {
    const p = { domain: 'd.example', month: '2026-10', ingestedAt: new Date('2026-11-02T00:00:00Z') } as const;
    const f1 = await spool([cdr('1', '2026-10-01T01:00:00Z'), cdr('2', '2026-10-10T01:00:00Z'), cdr('3', '2026-10-20T01:00:00Z')]);
    await writer.writePartition({ ...p, range: win('2026-10-01', '2026-11-01'), files: [f1] });
    // Re-fetch of [10th, 15th): id 2 changed twice (later spool wins), id 4 is new, id 1 and 3 are outside.
    const f2 = await spool([cdr('2', '2026-10-10T01:00:00Z', { 'call-total-duration-seconds': 5 }), cdr('4', '2026-10-11T00:00:00Z')]);
    const f3 = await spool([cdr('2', '2026-10-10T01:00:00Z', { 'call-total-duration-seconds': 7 }), cdr('9', '2026-10-25T00:00:00Z')]);
    const r2 = await writer.writePartition({ ...p, range: win('2026-10-10', '2026-10-15'), files: [f2, f3] });
    expect(r2).toMatchObject({ rowsInRange: 2, rowsTotal: 4, changed: true });
    const rows = await lakeRows();
    expect(rows.map((r) => [r.id, r.duration_s])).toEqual([
      ['1', 60],
      ['2', 7],
      ['3', 60],
      ['4', 60],
    ]);
    const again = await writer.writePartition({ ...p, range: win('2026-10-10', '2026-10-15'), files: [f2, f3] });
    expect(again.changed).toBe(false);
    // An empty answer for a range removes nothing: the stored rows are kept and counted.
    const r3 = await writer.writePartition({ ...p, range: win('2026-10-01', '2026-10-15'), files: [] });
    expect(r3).toMatchObject({ rowsInRange: 0, rowsNotListed: 3, rowsRemoved: 0, rowsTotal: 4, changed: false });
    expect((await lakeRows()).map((r) => r.id)).toEqual(['1', '2', '3', '4']);
    expect(existsSync(join(dir, 'lake', 'removed'))).toBe(false);
  });

  it('removes stored rows only inside the ranges to prune, and keeps them under lake/removed with removed_at', async () => {
    const p = { domain: 'd.example', month: '2026-10', ingestedAt: new Date('2026-11-02T00:00:00Z') } as const;
    const f1 = await spool([
      cdr('1', '2026-10-01T01:00:00Z'),
      cdr('2', '2026-10-10T01:00:00Z'),
      cdr('3', '2026-10-20T01:00:00Z'),
      cdr('5', '2026-10-12T01:00:00Z'),
    ]);
    await writer.writePartition({ ...p, range: win('2026-10-01', '2026-11-01'), files: [f1] });
    // [1st, 15th) answered: id 2 only, and id 3 moved into the range (its old copy on the 20th goes).
    // Only [1st, 11th) is confirmed: id 1 is removed, id 5 (on the 12th) is kept.
    const moved = cdr('3', '2026-10-13T01:00:00Z');
    const f2 = await spool([cdr('2', '2026-10-10T01:00:00Z'), moved]);
    const at = new Date('2026-11-03T00:00:00Z');
    const r = await writer.writePartition({
      ...p,
      ingestedAt: at,
      range: win('2026-10-01', '2026-10-15'),
      prune: [win('2026-10-01', '2026-10-11')],
      files: [f2],
    });
    expect(r).toMatchObject({ rowsInRange: 2, rowsNotListed: 1, rowsRemoved: 1, rowsTotal: 3, changed: true });
    expect((await lakeRows()).map((x) => [x.id, x.start_time instanceof Date ? x.start_time.toISOString() : String(x.start_time)])).toEqual(
      [
        ['2', expect.stringContaining('2026-10-10')],
        ['3', expect.stringContaining('2026-10-13')],
        ['5', expect.stringContaining('2026-10-12')],
      ],
    );
    const removedDir = join(dir, 'lake', 'removed', 'month=2026-10', 'domain=d.example');
    expect(r.removedPath?.startsWith(removedDir)).toBe(true);
    expect((await readdir(removedDir)).filter((f) => !f.endsWith('.parquet'))).toEqual([]);
    const db = await Db.open(':memory:');
    try {
      const removed = await db.all<{ id: string; duration_s: number; removed_at: string; domain: string }>(
        `SELECT id, duration_s, strftime(removed_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS removed_at, domain FROM read_parquet(${sqlString(join(dir, 'lake', 'removed', '**', '*.parquet'))}, hive_partitioning = true)`,
      );
      expect(removed).toEqual([{ id: '1', duration_s: 60, removed_at: '2026-11-03T00:00:00Z', domain: 'd.example' }]);
      // Same columns as the lake, plus removed_at.
      const cols = async (glob: string) =>
        (await db.all<{ column_name: string }>(`DESCRIBE SELECT * FROM read_parquet(${sqlString(glob)}, hive_partitioning = true)`)).map(
          (c) => c.column_name,
        );
      expect((await cols(join(dir, 'lake', 'removed', '**', '*.parquet'))).sort()).toEqual(
        [...(await cols(cdrsGlob(dir))), 'removed_at'].sort(),
      );
    } finally {
      db.close();
    }
    // Pruning the whole month with an empty answer empties the partition: it goes away, its rows are kept aside.
    const r2 = await writer.writePartition({
      ...p,
      ingestedAt: at,
      range: win('2026-10-01', '2026-11-01'),
      prune: [win('2026-10-01', '2026-11-01')],
      files: [],
    });
    expect(r2).toMatchObject({ rowsRemoved: 3, rowsTotal: 0 });
    expect(existsSync(join(partitionDir(dir, '2026-10', 'd.example'), PARTITION_FILE))).toBe(false);
    expect((await readdir(removedDir)).length).toBe(2);
  });

  it('de-duplicates only the ids the caller names, and keeps the latest copy of those', async () => {
    const p = { domain: 'k.example', month: '2026-10', ingestedAt: new Date('2026-11-02T00:00:00Z') } as const;
    const f1 = await spool([cdr('1', '2026-10-01T01:00:00Z'), cdr('2', '2026-10-02T01:00:00Z', { 'call-total-duration-seconds': 1 })]);
    const f2 = await spool([cdr('2', '2026-10-02T01:00:00Z', { 'call-total-duration-seconds': 2 }), cdr('3', '2026-10-03T01:00:00Z')]);
    const r = await writer.writePartition({ ...p, range: win('2026-10-01', '2026-11-01'), files: [f1, f2], duplicateIds: ['2'] });
    expect(r).toMatchObject({ rowsInRange: 3, rowsTotal: 3 });
    expect((await lakeRows()).map((x) => [x.id, x.duration_s])).toEqual([
      ['1', 60],
      ['2', 2],
      ['3', 60],
    ]);
    // With no duplicates declared the rows go straight through (id 3, not in this answer, stays).
    const f3 = await spool([cdr('4', '2026-10-04T01:00:00Z')]);
    const r2 = await writer.writePartition({ ...p, range: win('2026-10-03', '2026-10-05'), files: [f3], duplicateIds: [] });
    expect(r2).toMatchObject({ rowsInRange: 1, rowsNotListed: 1, rowsTotal: 4 });
    expect((await lakeRows()).map((x) => x.id)).toEqual(['1', '2', '3', '4']);
  });

  it('writes issued together end as if one after another: same partition in call order, others side by side', async () => {
    const at = { month: '2026-10', ingestedAt: new Date('2026-11-02T00:00:00Z') } as const;
    const writes = [];
    // Ten ranges of one partition, each also re-fetching the day before with a changed duration,
    // and one partition per range elsewhere: all issued without waiting.
    for (let day = 1; day <= 10; day++) {
      const d = String(day).padStart(2, '0');
      const prev = String(day - 1).padStart(2, '0');
      const recs = [cdr(`s${d}`, `2026-10-${d}T05:00:00Z`, { 'call-total-duration-seconds': day })];
      if (day > 1) recs.push(cdr(`s${prev}`, `2026-10-${prev}T05:00:00Z`, { 'call-total-duration-seconds': 100 + day }));
      const f = await spool(recs);
      writes.push(
        writer.writePartition({
          ...at,
          domain: 'same.example',
          range: win(`2026-10-${day > 1 ? prev : d}T00:00:00Z`, `2026-10-${d}T23:59:59Z`),
          files: [f],
        }),
      );
      const g = await spool([cdr(`o${d}`, `2026-10-${d}T05:00:00Z`)]);
      writes.push(writer.writePartition({ ...at, domain: `other-${d}.example`, range: win('2026-10-01', '2026-11-01'), files: [g] }));
    }
    await Promise.all(writes);
    const same = await lakeRows(`WHERE domain = 'same.example'`);
    // Each range replaced the one before it: s01..s09 carry the later write's duration, s10 its own.
    expect(same.map((r) => [r.id, r.duration_s])).toEqual([
      ...Array.from({ length: 9 }, (_, i) => [`s${String(i + 1).padStart(2, '0')}`, 100 + i + 2]),
      ['s10', 10],
    ]);
    expect((await lakeRows(`WHERE domain <> 'same.example'`)).map((r) => r.id)).toEqual(
      Array.from({ length: 10 }, (_, i) => `o${String(i + 1).padStart(2, '0')}`),
    );
  });

  it('keeps hostile domain names inside the lake and gives analysts the real name back', async () => {
    const names = ['../x', 'a/b', 'with spaces', 'ünïcødé.example', '100%', "o'brien"];
    for (const name of names) {
      const f = await spool([cdr(`id-${name}`, '2026-10-03T00:00:00Z')]);
      await writer.writePartition({
        domain: name,
        month: '2026-10',
        range: win('2026-10-01', '2026-11-01'),
        files: [f],
        ingestedAt: new Date(),
      });
    }
    const monthDir = join(dir, 'lake', 'cdrs', 'month=2026-10');
    expect((await readdir(monthDir)).sort()).toEqual(
      names
        .map((n) => `domain=${encodeURIComponent(n).replace(/[!'()*~]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())}`)
        .sort(),
    );
    expect(await readdir(join(dir, 'lake'))).toEqual(['cdrs']);
    const rows = await lakeRows();
    expect(rows.map((r) => r.domain).sort()).toEqual([...names].sort());
    // The decoded hive value is what a filter sees.
    expect((await lakeRows(`WHERE domain = 'a/b'`)).map((r) => r.id)).toEqual(['id-a/b']);
    // Partition columns live in the path only, so readers that refuse a column both in the path
    // and in the file (DataFusion, older Polars) read the lake as it is.
    const db = await Db.open(':memory:');
    try {
      const cols = await db.all<{ name: string }>(`SELECT DISTINCT name FROM parquet_schema(${sqlString(cdrsGlob(dir))})`);
      expect(cols.map((c) => c.name)).not.toContain('domain');
      expect(cols.map((c) => c.name)).not.toContain('month');
      expect(cols.map((c) => c.name)).toContain('raw');
    } finally {
      db.close();
    }
  });
});

describe('LakeWriter domains and rejects', () => {
  it('writes domains.parquet and a rejects file', async () => {
    await writer.writeDomains(
      [
        {
          domain: 'a.example',
          reseller: 'r',
          description: 'A',
          timeZone: 'US/Pacific',
          raw: { domain: 'a.example', 'time-zone': 'US/Pacific' },
        },
      ],
      new Date('2026-11-01T00:00:00Z'),
    );
    await writer.writeRejects(
      [{ domain: 'a.example', window: win('2026-10-01', '2026-11-01'), reason: 'no id', rawText: '{"x":1}' }],
      'run-1',
      new Date('2026-11-01T00:00:00Z'),
    );
    const db = await Db.open(':memory:');
    try {
      const d = await db.all(
        `SELECT domain, time_zone, raw->>'time-zone' AS tz, fetched_at FROM read_parquet(${sqlString(join(domainsDir(dir), 'domains.parquet'))})`,
      );
      expect(d).toEqual([{ domain: 'a.example', time_zone: 'US/Pacific', tz: 'US/Pacific', fetched_at: '2026-11-01 00:00:00+00' }]);
      const r = await db.all(
        `SELECT domain, window_start, reason, raw_text FROM read_parquet(${sqlString(join(rejectsDir(dir), '*.parquet'))})`,
      );
      expect(r).toEqual([{ domain: 'a.example', window_start: '2026-10-01 00:00:00+00', reason: 'no id', raw_text: '{"x":1}' }]);
    } finally {
      db.close();
    }
  });

  it('stores a reject once, however many runs refuse the same record', async () => {
    const w = win('2026-10-01', '2026-11-01');
    const bad = (domain: string, rawText: string) => ({ domain, window: w, reason: 'no id', rawText });
    const first = await writer.writeRejects(
      [bad('a.example', '{"x":1}'), bad('a.example', '{"x":1}'), bad('b.example', '{"x":1}')],
      'run-1',
      new Date('2026-11-01T00:00:00Z'),
    );
    expect(first.added).toBe(2);
    // The next run meets the same two records again and one new one: only the new one is written.
    const second = await writer.writeRejects(
      [bad('a.example', '{"x":1}'), bad('b.example', '{"x":1}'), bad('a.example', '{"x":2}')],
      'run-2',
      new Date('2026-11-02T00:00:00Z'),
    );
    expect(second.added).toBe(1);
    const third = await writer.writeRejects([bad('a.example', '{"x":2}')], 'run-3', new Date('2026-11-03T00:00:00Z'));
    expect(third).toEqual({ path: undefined, added: 0 });
    expect((await readdir(rejectsDir(dir))).filter((f) => f.endsWith('.parquet'))).toHaveLength(2);
    const db = await Db.open(':memory:');
    try {
      const r = await db.all(
        `SELECT domain, raw_text, run_id FROM read_parquet(${sqlString(join(rejectsDir(dir), '*.parquet'))}) ORDER BY run_id, domain, raw_text`,
      );
      expect(r).toEqual([
        { domain: 'a.example', raw_text: '{"x":1}', run_id: 'run-1' },
        { domain: 'b.example', raw_text: '{"x":1}', run_id: 'run-1' },
        { domain: 'a.example', raw_text: '{"x":2}', run_id: 'run-2' },
      ]);
    } finally {
      db.close();
    }
  });
});
