/**
 * Many partition writes in a few DuckDB statements. A tick over thousands of domains hands the
 * writer one small write per domain; each on its own costs a statement (planning the row SQL,
 * opening and closing a Parquet file), which is what the tick's wall time was made of. Here the
 * writes of a batch share statements: one reads every spool file (each joined to its partition),
 * one compares the fetched rows with the stored files of the partitions that have one, and one
 * COPY ... PARTITION_BY writes every partition that changed into a staging folder. Each staged
 * file is then published as a lone write's is (lake-publish.ts: fsync and rename, or the bucket's
 * conditional PUT), so every trust rule of partition-write.ts holds per partition: an unchanged
 * partition is not rewritten, rows are upserted by id and stored rows the answer lacks are kept,
 * and a killed run leaves each partition's previous file.
 *
 * Writes that need more than an upsert go alone (writeAside): a prune, a short partition name
 * (its files carry `domain_name`), a partition seeded from a compacted month, a write too big to
 * gain from sharing. So does every write of a batch whose shared statements fail, which also
 * gives a damaged stored file the lone write's treatment.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isOutOfMemoryError, sqlString, type Db } from '../db/duckdb.ts';
import { removeQuietly } from '../util/atomic-file.ts';
import { newestCompactedFiles } from './compacted-partition.ts';
import { refreshLakeFile } from './lake-publish.ts';
import { partitionDir } from './layout.ts';
import { batchRowsSql, PARQUET_OPTIONS } from './merge-sql.ts';
import { encodePartitionValue, isShortPartitionValue } from './partition-path.ts';
import {
  PARTITION_FILE,
  refuseDamaged,
  removeStaleTemps,
  writeAside,
  type PartitionWrite,
  type PartitionWriteContext,
  type PendingWrite,
} from './partition-write.ts';
import { isSpoolFile } from './spool-format.ts';

/** The batch's partition number, a column of the shared statements (never written to a lake file). */
const PART = '__part';
/** Spool bytes above which a write goes alone: its own statement costs little beside its rows, and it streams without the batch's sort. */
export const BATCH_MAX_WRITE_BYTES = 4 * 1024 * 1024;
/** At most this many partitions per batch: the PARTITION_BY statement's sort and the staging folder stay bounded. */
export const BATCH_MAX_WRITES = 1_000;
/**
 * At most this many spool bytes per batch: the batch's sort and Parquet buffers stay inside the
 * writer's memory cap (a 1,000-partition batch of ~55 MiB ran out of a 126 MiB cap shared by two lanes).
 */
export const BATCH_MAX_BYTES = 16 * 1024 * 1024;
/** Stored files refreshed (lake in a bucket) or checked side by side. */
const PREPARE_CONCURRENCY = 16;

/** What became of one write of a batch: its pending publish, or why it failed. */
export type BatchOutcome = { ok: true; pending: PendingWrite } | { ok: false; error: unknown };

/** Spool bytes a write reads. */
export async function writeBytes(w: PartitionWrite): Promise<number> {
  let n = 0;
  for (const f of w.files) n += (await stat(f).catch(() => undefined))?.size ?? 0;
  return n;
}

/** Whether a write may share a batch (it needs nothing but an upsert, and it is small). Pure. */
export function batchable(w: PartitionWrite, bytes: number): boolean {
  return (w.prune ?? []).length === 0 && !isShortPartitionValue(encodePartitionValue(w.domain)) && bytes <= BATCH_MAX_WRITE_BYTES;
}

/** Batches are not cut smaller than this to spread them over lanes (a statement's own cost stays small beside its rows). */
export const BATCH_MIN_SHARE_BYTES = 1024 * 1024;

/**
 * The byte cap of batches over `lanes` lanes: an even share of the total, so that the writes
 * handed over at once (the last ones of a run, with no fetching left to overlap them) keep every
 * lane busy instead of one; never above BATCH_MAX_BYTES, never below BATCH_MIN_SHARE_BYTES. Pure.
 */
export function batchCapFor(totalBytes: number, lanes: number): number {
  return Math.min(BATCH_MAX_BYTES, Math.max(BATCH_MIN_SHARE_BYTES, Math.ceil(totalBytes / Math.max(1, lanes))));
}

/**
 * Writer memory one partition of a batch takes in its PARTITION_BY statement, with room to spare:
 * each partition's Parquet writer holds its own buffers (about 1 MiB for a small CDR partition;
 * in a 63 MiB cap, 30 such partitions of one spool file fit and 60 ran out of memory), and each
 * spool file the statement reads holds its reader's buffers besides (a reseller-wide tick hands a
 * partition one file per shared window: 25 partitions of 4 or 8 files ran out of 63 MiB, 15 of 4
 * and 10 or 12 of 8 fit).
 */
export const BATCH_MIB_PER_WRITE = 3;
/** Writer memory each spool file of a batched write adds (see BATCH_MIB_PER_WRITE). */
export const BATCH_MIB_PER_FILE = 0.5;

/** Writer memory one write of `files` spool files takes in a batch (at least one file: the empty page). Pure. */
export function batchWriteMiB(files: number): number {
  return BATCH_MIB_PER_WRITE + BATCH_MIB_PER_FILE * Math.max(1, files);
}

/** Partitions of `files` spool files each that one lane's share of the writer's memory cap holds (at least 2). Pure. */
export function batchWritesFor(writerMiB: number, lanes: number, files = 1): number {
  return Math.max(2, Math.min(BATCH_MAX_WRITES, Math.floor(writerMiB / Math.max(1, lanes) / batchWriteMiB(files))));
}

/**
 * Splits writes into batches of at most `maxWrites` writes (default BATCH_MAX_WRITES), `maxBytes`
 * bytes (default BATCH_MAX_BYTES) and `maxMiB` of writer memory (each item's `mib`; never fewer
 * than 2 writes for it), in order. Pure.
 */
export function batchesOf<T>(
  items: readonly { item: T; bytes: number; mib?: number }[],
  maxBytes = BATCH_MAX_BYTES,
  maxWrites = BATCH_MAX_WRITES,
  maxMiB = Infinity,
): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  let mib = 0;
  for (const { item, bytes: b, mib: m = 0 } of items) {
    if (cur.length > 0 && (cur.length >= maxWrites || bytes + b > maxBytes || (cur.length >= 2 && mib + m > maxMiB))) {
      out.push(cur);
      cur = [];
      bytes = 0;
      mib = 0;
    }
    cur.push(item);
    bytes += b;
    mib += m;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

interface Part {
  index: number;
  w: PartitionWrite;
  target: string;
  /** The stored partition file, when there is one. */
  old?: string;
}

/** Runs `fn` over `items`, at most `n` at a time. */
async function eachLimited<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

const VALUES_CHUNK = 500;

/** A temp table from rows of SQL literals (inserted in chunks: a statement stays small). */
async function tempTable(db: Db, name: string, columns: string, rows: readonly string[]): Promise<void> {
  await db.run(`CREATE OR REPLACE TEMP TABLE ${name} (${columns})`);
  for (let i = 0; i < rows.length; i += VALUES_CHUNK) {
    await db.run(`INSERT INTO ${name} VALUES ${rows.slice(i, i + VALUES_CHUNK).join(', ')}`);
  }
}

const ts = (d: Date) => `${sqlString(d.toISOString())}::TIMESTAMPTZ`;

/**
 * The DuckDB part of a batch of partition writes (distinct partitions): each write's new file
 * staged aside in its partition folder, or the verdict that none is needed, or its error. The
 * caller publishes the pending files (partition-write.ts putInPlace).
 */
export async function writeBatchAside(ctx: PartitionWriteContext, db: Db, ws: readonly PartitionWrite[]): Promise<BatchOutcome[]> {
  const out: BatchOutcome[] = new Array(ws.length);
  const shared: Part[] = [];
  const alone: number[] = [];
  // Whether a month is compacted, listed once per batch: the month's folder holds a folder per
  // domain, and listing it for each new partition of a tick over thousands of domains was
  // quadratic (and synchronous). Only compaction adds a generation, never during a write.
  const compacted = new Map<string, boolean>();
  const isCompacted = (month: string): boolean => {
    let c = compacted.get(month);
    if (c === undefined) compacted.set(month, (c = newestCompactedFiles(ctx.dataDir, month).length > 0));
    return c;
  };
  await eachLimited(
    ws.map((w, index) => ({ w, index })),
    PREPARE_CONCURRENCY,
    async ({ w, index }) => {
      try {
        const foreign = w.files.find((f) => !isSpoolFile(f));
        if (foreign) throw new Error(`lake writer was given ${foreign}, which is not a spool file (lake/spool-format.ts: <seq>.jsonrs)`);
        const target = join(partitionDir(ctx.dataDir, w.month, w.domain), PARTITION_FILE);
        await refreshLakeFile(ctx.dataDir, target);
        if (existsSync(target)) {
          // A damaged partition file is moved aside (its month fetched again later), never merged into.
          await refuseDamaged(ctx.dataDir, target, w);
          shared.push({ index, w, target, old: target });
        } else if (isCompacted(w.month)) {
          // The domain's own partition starts from its compacted rows: the lone write knows how.
          alone.push(index);
        } else shared.push({ index, w, target });
      } catch (err) {
        out[index] = { ok: false, error: err };
      }
    },
  );
  shared.sort((a, b) => a.index - b.index);
  const share = async (parts: readonly Part[]): Promise<void> => {
    try {
      const pending = await writeShared(ctx, db, parts);
      parts.forEach((p, k) => (out[p.index] = { ok: true, pending: pending[k]! }));
    } catch (err) {
      const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
      if (isOutOfMemoryError(err) && parts.length > 2) {
        // Out of the writer's memory: two halves of the batch, each still sharing its statements,
        // cost a statement more instead of one statement per partition.
        ctx.logger?.warn({ partitions: parts.length, err: why }, 'a batched lake write ran out of memory; writing it in two halves');
        const half = Math.ceil(parts.length / 2);
        await share(parts.slice(0, half));
        await share(parts.slice(half));
        return;
      }
      // A statement over the whole batch failed (a stored file only DuckDB finds fault with, say):
      // each write goes alone, and the one at fault fails with its own error.
      ctx.logger?.warn({ partitions: parts.length, err: why }, 'a batched lake write failed; writing each of its partitions alone');
      alone.push(...parts.map((p) => p.index));
    }
  };
  if (shared.length > 0) await share(shared);
  for (const index of alone.sort((a, b) => a - b)) {
    try {
      out[index] = { ok: true, pending: await writeAside(ctx, db, ws[index]!) };
    } catch (err) {
      out[index] = { ok: false, error: err };
    }
  }
  return out;
}

/** The shared statements of a batch: returns each part's pending write, in the order of `parts`. */
async function writeShared(ctx: PartitionWriteContext, db: Db, parts: readonly Part[]): Promise<PendingWrite[]> {
  const id = randomUUID().replaceAll('-', '');
  const filesTable = `batch_files_${id}`;
  const partsTable = `batch_parts_${id}`;
  const staging = join(ctx.workDir, `batch-${id}`);
  const stagedRows = join(ctx.workDir, `batch-${id}.parquet`);
  const moved: string[] = [];
  try {
    const fileRows: string[] = [];
    const partRows: string[] = [];
    parts.forEach((p, k) => {
      const w = p.w;
      const attrs = `${sqlString(w.domain)}, ${ts(w.range.start)}, ${ts(w.range.end)}, ${ts(w.ingestedAt)}`;
      for (const f of w.files) fileRows.push(`(${k}, ${sqlString(f)}, ${attrs})`);
      partRows.push(`(${k}, ${attrs}, ${p.old ? sqlString(p.old) : 'NULL'})`);
    });
    const attrCols = 'domain VARCHAR, range_start TIMESTAMPTZ, range_end TIMESTAMPTZ, ingested_at TIMESTAMPTZ';
    await tempTable(db, filesTable, `${PART} INTEGER, file VARCHAR, ${attrCols}`, fileRows);
    await tempTable(db, partsTable, `${PART} INTEGER, ${attrCols}, old_file VARCHAR`, partRows);
    // The writer's empty page (no row of the files table) keeps the file list from being empty.
    const files = [ctx.emptyPage, ...parts.flatMap((p) => p.w.files)];
    const dedup = parts.some((p) => p.w.duplicateIds === undefined || p.w.duplicateIds.length > 0);
    const fetched = batchRowsSql({ files, filesTable, part: PART, dedup });
    const olds = parts.filter((p) => p.old);
    const counts = new Map<number, { nNew: number; changed: number; notListed: number; keptOld: number; total: number }>();
    let written: string;
    if (olds.length === 0) {
      // Every partition is new: one statement from the spool files to their Parquet files.
      written = fetched;
    } else {
      await db.run(`COPY (${fetched}) TO ${sqlString(stagedRows)} (${PARQUET_OPTIONS})`);
      const oldRows = `(SELECT o.* EXCLUDE (filename), p.${PART}, p.range_start AS range_start__, p.range_end AS range_end__
          FROM read_parquet([${olds.map((p) => sqlString(p.old!)).join(', ')}], hive_partitioning = false, union_by_name = true, filename = true) o
          JOIN ${partsTable} p ON p.old_file = o.filename)`;
      const fresh = `read_parquet(${sqlString(stagedRows)})`;
      const rows = await db.all<Record<string, unknown>>(`
        WITH f AS (SELECT ${PART}, id, hash(id, raw::VARCHAR) AS h FROM ${fresh}),
             o AS (SELECT ${PART}, id, start_time, range_start__, range_end__, hash(id, raw::VARCHAR) AS h FROM ${oldRows})
        SELECT p.${PART} AS part,
               coalesce(fn.n, 0) AS n_new, coalesce(fc.n, 0) AS changed,
               coalesce(ko.not_listed, 0) AS not_listed, coalesce(ko.n, 0) AS kept_old, coalesce(ot.n, 0) AS n_total
        FROM ${partsTable} p
        LEFT JOIN (SELECT ${PART}, count(*) AS n FROM f GROUP BY ALL) fn USING (${PART})
        LEFT JOIN (SELECT f.${PART}, count(*) AS n FROM f ANTI JOIN o ON o.${PART} = f.${PART} AND o.h = f.h GROUP BY ALL) fc USING (${PART})
        LEFT JOIN (SELECT o.${PART}, count(*) AS n,
                          count(*) FILTER (WHERE o.start_time >= o.range_start__ AND o.start_time < o.range_end__) AS not_listed
                   FROM o ANTI JOIN f ON f.${PART} = o.${PART} AND f.id = o.id GROUP BY ALL) ko USING (${PART})
        LEFT JOIN (SELECT ${PART}, count(*) AS n FROM o GROUP BY ALL) ot USING (${PART})`);
      for (const r of rows) {
        counts.set(Number(r.part), {
          nNew: Number(r.n_new),
          changed: Number(r.changed),
          notListed: Number(r.not_listed),
          keptOld: Number(r.kept_old),
          total: Number(r.n_total),
        });
      }
      // New partitions with rows, and stored ones with a new or changed row: nothing else is rewritten.
      const rewrite = parts.map((p, k) => k).filter((k) => (parts[k]!.old ? counts.get(k)!.changed > 0 : counts.get(k)!.nNew > 0));
      if (rewrite.length === 0) return parts.map((p, k) => keep(p, counts.get(k)!));
      const inRewrite = `${PART} IN (${rewrite.join(', ')})`;
      written = `
        SELECT * FROM ${fresh} WHERE ${inRewrite}
        UNION ALL BY NAME
        SELECT * EXCLUDE (range_start__, range_end__) FROM ${oldRows} o
        WHERE ${inRewrite} AND NOT EXISTS (SELECT 1 FROM ${fresh} f WHERE f.${PART} = o.${PART} AND f.id = o.id)`;
    }
    // Each partition's rows must reach PARTITION_BY together (one file each). New partitions'
    // rows already do: the files are read in order (one thread), grouped by partition; a sort
    // would hold the batch's rows against the memory cap. A merge's stored rows come after the
    // fetched ones, and de-duplication regroups rows, so those sort.
    const order = olds.length === 0 && !dedup ? '' : ` ORDER BY ${PART}`;
    const stats = await db.all<{ filename: string; count: string | number }>(
      `COPY (SELECT COLUMNS(c -> c NOT IN ('domain', 'domain_name')) FROM (${written})${order})
         TO ${sqlString(staging)} (${PARQUET_OPTIONS}, PARTITION_BY (${PART}), RETURN_STATS)`,
    );
    const staged = new Map<number, { file: string; rows: number }[]>();
    for (const s of stats) {
      const m = new RegExp(`[/\\\\]${PART}=(\\d+)[/\\\\]`).exec(s.filename);
      if (!m) throw new Error(`batch write staged ${s.filename} outside a partition folder`);
      const k = Number(m[1]);
      staged.set(k, [...(staged.get(k) ?? []), { file: s.filename, rows: Number(s.count) }]);
    }
    const pending: PendingWrite[] = [];
    for (const [k, p] of parts.entries()) {
      const c = counts.get(k);
      const got = staged.get(k) ?? [];
      if (got.length === 0) {
        pending.push(keep(p, c ?? { nNew: 0, changed: 0, notListed: 0, keptOld: 0, total: 0 }));
        continue;
      }
      if (got.length > 1) throw new Error(`batch write staged ${got.length} files for one partition`);
      const rows = got[0]!.rows;
      const dir = partitionDir(ctx.dataDir, p.w.month, p.w.domain);
      await mkdir(dir, { recursive: true });
      if (p.old) await removeStaleTemps(dir);
      const tmp = join(dir, `.${PARTITION_FILE}.${randomUUID()}.tmp`);
      await rename(got[0]!.file, tmp);
      moved.push(tmp);
      pending.push({
        step: 'publish',
        tmp,
        result: {
          path: p.target,
          rowsInRange: c ? c.nNew : rows,
          rowsNotListed: c?.notListed ?? 0,
          rowsRemoved: 0,
          rowsTotal: rows,
          changed: true,
        },
      });
    }
    return pending;
  } catch (err) {
    // The batch's writes go alone next: none of its staged files may be published.
    for (const t of moved) await removeQuietly(t);
    throw err;
  } finally {
    await db.run(`DROP TABLE IF EXISTS ${filesTable}`).catch(() => undefined);
    await db.run(`DROP TABLE IF EXISTS ${partsTable}`).catch(() => undefined);
    await removeQuietly(staging);
    await removeQuietly(stagedRows);
  }
}

function keep(p: Part, c: { nNew: number; notListed: number; total: number }): PendingWrite {
  return {
    step: 'keep',
    // Nothing was written aside: the name is never created.
    tmp: `${p.target}.unwritten.tmp`,
    result: { path: p.target, rowsInRange: c.nNew, rowsNotListed: c.notListed, rowsRemoved: 0, rowsTotal: c.total, changed: false },
  };
}
