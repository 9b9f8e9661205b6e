import { mkdir, stat, writeFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { createLogger } from '../../pipeline/util/logger.ts';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dir.ts';
import { Db, sqlString } from '../../pipeline/db/duckdb.ts';
import { cdrsGlob, partitionDir } from '../../pipeline/lake/layout.ts';
import { LakeWriter, PARTITION_FILE, type PartitionWrite, type PartitionWriteResult } from '../../pipeline/lake/lake-writer.ts';
import { encodeValues, spoolFileName } from '../../pipeline/lake/spool-format.ts';
import {
  BATCH_MAX_BYTES,
  BATCH_MIN_SHARE_BYTES,
  batchCapFor,
  batchesOf,
  batchWriteMiB,
  batchWritesFor,
  writeBatchAside,
} from '../../pipeline/lake/batch-write.ts';
import { macrosSql } from '../../pipeline/lake/merge-sql.ts';
import { putInPlace } from '../../pipeline/lake/partition-write.ts';

/**
 * writePartitions shares statements among small writes; every write must end exactly as the
 * same write through writePartition does: same results, same rows, same files left alone.
 */

interface Lake {
  dir: string;
  writer: LakeWriter;
  seq: number;
}

let lone: Lake;
let batched: Lake;

async function openLake(): Promise<Lake> {
  const dir = await tempDir('cdrpipe-batch-');
  return { dir, writer: await LakeWriter.open(dir, { workDir: join(dir, 'work') }), seq: 0 };
}

beforeEach(async () => {
  [lone, batched] = [await openLake(), await openLake()];
});
afterEach(async () => {
  await lone.writer.close();
  await batched.writer.close();
});

function cdr(id: string, start: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    domain: 'ignored.example',
    'call-start-datetime': start,
    'call-disconnect-datetime': start,
    'call-total-duration-seconds': 60,
    'call-direction': 0,
    'call-orig-user': 1001,
    ...extra,
  };
}

/** One spool file per lake, same records. */
async function spoolBoth(records: unknown[], plain = false): Promise<[string, string]> {
  const out: string[] = [];
  for (const l of [lone, batched]) {
    const p = join(l.dir, 'work', spoolFileName(++l.seq, plain));
    await writeFile(p, encodeValues(records));
    out.push(p);
  }
  return [out[0]!, out[1]!];
}

type Spec = Omit<PartitionWrite, 'files'> & { files: [string, string][] };

/** The same writes: one by one in the first lake, as one call in the second; both results. */
async function writeBoth(specs: Spec[]): Promise<[PartitionWriteResult[], PartitionWriteResult[]]> {
  const writes = (k: 0 | 1) => specs.map((s) => ({ ...s, files: s.files.map((f) => f[k]) }));
  const a: PartitionWriteResult[] = [];
  for (const w of writes(0)) a.push(await lone.writer.writePartition(w));
  const settled = await batched.writer.writePartitions(writes(1));
  const b = settled.map((r) => {
    if (r.status === 'rejected') throw r.reason;
    return r.value;
  });
  const rel = (r: PartitionWriteResult, dir: string) => ({ ...r, path: r.path.slice(dir.length) });
  return [a.map((r) => rel(r, lone.dir)), b.map((r) => rel(r, batched.dir))];
}

async function rows(l: Lake): Promise<Record<string, unknown>[]> {
  const db = await Db.open(':memory:');
  try {
    return await db.all(
      `SELECT * EXCLUDE (raw), raw::VARCHAR AS raw FROM read_parquet(${sqlString(cdrsGlob(l.dir))}, hive_partitioning = true, union_by_name = true)
       ORDER BY domain, month, id`,
    );
  } finally {
    db.close();
  }
}

async function columnsOf(l: Lake, domain: string): Promise<string[]> {
  const db = await Db.open(':memory:');
  try {
    const file = join(partitionDir(l.dir, '2026-10', domain), PARTITION_FILE);
    return (await db.all<{ name: string }>(`SELECT name FROM parquet_schema(${sqlString(file)}) WHERE num_children IS NULL`)).map(
      (r) => r.name,
    );
  } finally {
    db.close();
  }
}

const win = (a: string, b: string) => ({ start: new Date(a), end: new Date(b) });
const at = new Date('2026-11-02T00:00:00Z');
const month = { month: '2026-10', range: win('2026-10-01', '2026-11-01'), ingestedAt: at } as const;

describe('LakeWriter.writePartitions', () => {
  it('ends every partition as the same writes one by one do: upserts, repeats, empty answers, unchanged files left alone', async () => {
    // First tick: new partitions (one with an id fetched twice, one with nothing, one plain).
    const [r1a, r1b] = await writeBoth([
      { ...month, domain: 'a.example', files: [await spoolBoth([cdr('1', '2026-10-01T01:00:00Z'), cdr('2', '2026-10-10T01:00:00Z')])] },
      {
        ...month,
        domain: 'b.example',
        files: [
          await spoolBoth([cdr('7', '2026-10-05T00:00:00Z', { 'call-total-duration-seconds': 1 })]),
          await spoolBoth([cdr('7', '2026-10-05T00:00:00Z', { 'call-total-duration-seconds': 2 }), cdr('8', '2026-11-05T00:00:00Z')]),
        ],
        duplicateIds: ['7'],
      },
      { ...month, domain: 'empty.example', files: [] },
      { ...month, domain: 'c.example', files: [await spoolBoth([cdr('5', '2026-10-03T00:00:00Z')], true)] },
      { ...month, domain: 'untouched.example', files: [await spoolBoth([cdr('9', '2026-10-03T00:00:00Z')])] },
    ]);
    expect(r1b).toEqual(r1a);
    expect(r1b.map((r) => [r.rowsInRange, r.rowsTotal, r.changed])).toEqual([
      [2, 2, true],
      [1, 1, true],
      [0, 0, false],
      [1, 1, true],
      [1, 1, true],
    ]);
    expect(await rows(batched)).toEqual(await rows(lone));
    expect(await columnsOf(batched, 'a.example')).toEqual(await columnsOf(lone, 'a.example'));
    const untouched = join(partitionDir(batched.dir, '2026-10', 'untouched.example'), PARTITION_FILE);
    const before = await stat(untouched);

    // Next tick over [10th, 15th): a changed row and a new one, an identical answer, an empty
    // answer over stored rows (kept, counted), a new domain.
    const range = win('2026-10-10', '2026-10-15');
    const tick = { month: '2026-10', range, ingestedAt: new Date('2026-11-03T00:00:00Z') } as const;
    const [r2a, r2b] = await writeBoth([
      {
        ...tick,
        domain: 'a.example',
        files: [
          await spoolBoth([cdr('2', '2026-10-10T01:00:00Z', { 'call-total-duration-seconds': 9 }), cdr('3', '2026-10-11T00:00:00Z')]),
        ],
        duplicateIds: [],
      },
      {
        ...tick,
        domain: 'untouched.example',
        range: month.range,
        files: [await spoolBoth([cdr('9', '2026-10-03T00:00:00Z')])],
        ingestedAt: at,
      },
      { ...tick, domain: 'c.example', range: win('2026-10-01', '2026-10-15'), files: [], duplicateIds: [] },
      { ...tick, domain: 'd.example', files: [await spoolBoth([cdr('4', '2026-10-12T00:00:00Z')])], duplicateIds: [] },
    ]);
    expect(r2b).toEqual(r2a);
    expect(r2b.map((r) => [r.rowsInRange, r.rowsNotListed, r.rowsTotal, r.changed])).toEqual([
      [2, 0, 3, true],
      [1, 0, 1, false],
      [0, 1, 1, false],
      [1, 0, 1, true],
    ]);
    expect(await rows(batched)).toEqual(await rows(lone));
    expect((await rows(batched)).filter((r) => r.domain === 'a.example').map((r) => [r.id, r.duration_s])).toEqual([
      ['1', 60],
      ['2', 9],
      ['3', 60],
    ]);
    // An unchanged partition is not rewritten.
    const after = await stat(untouched);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  it('fails only the write whose stored file is damaged; the others of the batch are written', async () => {
    const first = [
      { ...month, domain: 'ok.example', files: [await spoolBoth([cdr('1', '2026-10-01T01:00:00Z')])] },
      { ...month, domain: 'bad.example', files: [await spoolBoth([cdr('2', '2026-10-01T01:00:00Z')])] },
    ];
    await writeBoth(first);
    await writeFile(join(partitionDir(batched.dir, '2026-10', 'bad.example'), PARTITION_FILE), 'PAR1 cut short');
    const settled = await batched.writer.writePartitions([
      { ...month, domain: 'ok.example', files: [(await spoolBoth([cdr('3', '2026-10-02T01:00:00Z')]))[1]] },
      { ...month, domain: 'bad.example', files: [(await spoolBoth([cdr('4', '2026-10-02T01:00:00Z')]))[1]] },
      { ...month, domain: 'new.example', files: [(await spoolBoth([cdr('5', '2026-10-02T01:00:00Z')]))[1]] },
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((settled[1] as PromiseRejectedResult).reason)).toMatch(/damaged/);
    expect((await rows(batched)).map((r) => [r.domain, r.id])).toEqual([
      ['new.example', '5'],
      ['ok.example', '1'],
      ['ok.example', '3'],
    ]);
  });

  it('says so when the batch statement fails and its partitions are written alone', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', destination: new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }) });
    const l: Lake = {
      dir: batched.dir,
      writer: await LakeWriter.open(batched.dir, { workDir: join(batched.dir, 'work2'), logger }),
      seq: 100,
    };
    try {
      const spool = async (id: string) => {
        const p = join(l.dir, 'work2', spoolFileName(++l.seq, false));
        await writeFile(p, encodeValues([cdr(id, '2026-10-02T01:00:00Z')]));
        return p;
      };
      await l.writer.writePartitions([{ ...month, domain: 'odd.example', files: [await spool('1')] }]);
      // Framed like Parquet (magic at both ends, a plausible footer length), unreadable inside:
      // only DuckDB finds fault with it, in the batch's shared statement.
      const footer = Buffer.alloc(4);
      footer.writeUInt32LE(16);
      const odd = Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(64, 7), footer, Buffer.from('PAR1')]);
      await writeFile(join(partitionDir(l.dir, '2026-10', 'odd.example'), PARTITION_FILE), odd);
      const settled = await l.writer.writePartitions([
        { ...month, domain: 'odd.example', files: [await spool('2')] },
        { ...month, domain: 'fine.example', files: [await spool('3')] },
      ]);
      expect(settled.map((s) => s.status)).toEqual(['rejected', 'fulfilled']);
      const warned = lines.map((x) => JSON.parse(x) as { msg: string; partitions: number });
      expect(warned).toEqual([
        expect.objectContaining({ msg: 'a batched lake write failed; writing each of its partitions alone', partitions: 2 }),
      ]);
    } finally {
      await l.writer.close();
    }
  });
});

describe('a batch of many partitions under a small memory cap', () => {
  it('writes them in its shared statements, without running out of memory', async () => {
    const dir = await tempDir('cdrpipe-batch-cap-');
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', destination: new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }) });
    // The default budget's writer cap (126 MiB) shared by two lanes, at half: what one lane may count on.
    const writer = await LakeWriter.open(dir, { workDir: join(dir, 'work'), memoryLimit: '63MiB', lanes: 1, logger });
    try {
      const writes: PartitionWrite[] = [];
      for (let d = 0; d < 150; d++) {
        const file = join(dir, 'work', spoolFileName(d + 1, false));
        const records = Array.from({ length: 40 }, (_, i) =>
          cdr(`${d}-${i}`, `2026-10-0${1 + (i % 9)}T0${i % 10}:00:00Z`, { 'orig-caller-name': `caller ${i}`, 'term-to-uri': `sip:${i}@x` }),
        );
        await writeFile(file, encodeValues(records));
        writes.push({ ...month, domain: `d${d}.example`, files: [file] });
      }
      const settled = await writer.writePartitions(writes);
      expect(settled.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(lines).toEqual([]);
      const db = await Db.open(':memory:');
      try {
        const [row] = await db.all<{ n: bigint; d: bigint }>(
          `SELECT count(*) AS n, count(DISTINCT domain) AS d FROM read_parquet(${sqlString(cdrsGlob(dir))}, hive_partitioning = true)`,
        );
        expect([Number(row!.n), Number(row!.d)]).toEqual([6000, 150]);
      } finally {
        db.close();
      }
    } finally {
      await writer.close();
    }
  });
});

describe('a batch that runs out of the writer memory', () => {
  it('is written in halves that still share their statements, not one partition at a time', async () => {
    const dir = await tempDir('cdrpipe-batch-halves-');
    const work = join(dir, 'work');
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', destination: new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }) });
    await mkdir(work, { recursive: true });
    // A lane's connection as the writer opens it, with one lane's share of the default cap, handed
    // more partitions than that holds in one statement.
    const db = await Db.open(':memory:', {
      settings: { memory_limit: '63MiB', threads: '1', preserve_insertion_order: 'false', partitioned_write_max_open_files: '4' },
    });
    try {
      await db.exec(macrosSql);
      const emptyPage = join(work, spoolFileName(0, true));
      await writeFile(emptyPage, '{}');
      const writes: PartitionWrite[] = [];
      for (let d = 0; d < 90; d++) {
        const file = join(work, spoolFileName(d + 1, false));
        const records = Array.from({ length: 40 }, (_, i) =>
          cdr(`${d}-${i}`, `2026-10-0${1 + (i % 9)}T0${i % 10}:00:00Z`, { 'orig-caller-name': `caller ${i}`, 'term-to-uri': `sip:${i}@x` }),
        );
        await writeFile(file, encodeValues(records));
        writes.push({ ...month, domain: `d${d}.example`, files: [file] });
      }
      const ctx = { dataDir: dir, workDir: work, emptyPage, logger };
      const outcomes = await writeBatchAside(ctx, db, writes);
      for (const [k, o] of outcomes.entries()) {
        if (!o.ok) throw o.error;
        await putInPlace(ctx, writes[k]!, o.pending);
      }
      const msgs = lines.map((x) => (JSON.parse(x) as { msg: string }).msg);
      expect(msgs).toContain('a batched lake write ran out of memory; writing it in two halves');
      expect(msgs).not.toContain('a batched lake write failed; writing each of its partitions alone');
      const [row] = await db.all<{ n: bigint; d: bigint }>(
        `SELECT count(*) AS n, count(DISTINCT domain) AS d FROM read_parquet(${sqlString(cdrsGlob(dir))}, hive_partitioning = true)`,
      );
      expect([Number(row!.n), Number(row!.d)]).toEqual([3600, 90]);
    } finally {
      db.close();
    }
  });
});

describe('batch sizes', () => {
  it("fits a batch's partitions and their spool files to one lane's share of the writer's memory cap", () => {
    // The default budget: 126 MiB shared by two lanes.
    expect(batchWritesFor(126, 2)).toBe(18);
    expect(batchWritesFor(63, 1)).toBe(18);
    // A reseller-wide tick's partition: one spool file per shared window.
    expect(batchWritesFor(63, 1, 8)).toBe(9);
    expect(batchWritesFor(4096, 1)).toBe(1000);
    expect(batchWritesFor(4, 2)).toBe(2);
    expect(
      batchesOf(
        [0, 1, 2, 3, 4].map((item) => ({ item, bytes: 1 })),
        BATCH_MAX_BYTES,
        2,
      ),
    ).toEqual([[0, 1], [2, 3], [4]]);
    const byFiles = [1, 8, 8, 1, 1, 1, 8].map((files, item) => ({ item, bytes: 1, mib: batchWriteMiB(files) }));
    expect(batchesOf(byFiles, BATCH_MAX_BYTES, 1000, 16)).toEqual([
      [0, 1],
      [2, 3, 4],
      [5, 6],
    ]);
    // Never fewer than two writes for the memory bound (one write is not a batch).
    expect(batchesOf(byFiles.slice(1, 3), BATCH_MAX_BYTES, 1000, 1)).toEqual([[1, 2]]);
  });

  const MiB = 1024 * 1024;
  it('cuts the writes handed over at once into a share per lane, within the batch bounds', () => {
    expect(batchCapFor(12 * MiB, 2)).toBe(6 * MiB);
    expect(batchCapFor(100 * MiB, 2)).toBe(BATCH_MAX_BYTES);
    expect(batchCapFor(100_000, 2)).toBe(BATCH_MIN_SHARE_BYTES);
    const items = [3, 3, 3, 3].map((mb, item) => ({ item, bytes: mb * MiB }));
    expect(batchesOf(items, batchCapFor(12 * MiB, 2))).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(batchesOf(items)).toEqual([[0, 1, 2, 3]]);
  });
});
