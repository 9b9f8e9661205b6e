import { randomUUID } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Db, isOutOfMemoryError, sqlString } from '../db/duckdb.ts';
import { duckdbSizeMiB } from '../db/duckdb-size.ts';
import type { Logger } from '../util/logger.ts';
import type { DomainInfo, TimeWindow } from '../source/index.ts';
import { removeQuietly } from '../util/atomic-file.ts';
import type { PublishMode } from '../store/index.ts';
import { publishLakeFile, refreshLakeSideFiles } from './lake-publish.ts';
import { domainsDir, rejectsDir } from './layout.ts';
import { KeyedLanes } from './keyed-lanes.ts';
import { copyCount, macrosSql } from './merge-sql.ts';
import { encodePartitionValue } from './partition-path.ts';
import { putInPlace, writeAside, type PartitionWrite, type PartitionWriteContext, type PartitionWriteResult } from './partition-write.ts';
import {
  batchable,
  batchCapFor,
  batchesOf,
  batchWriteMiB,
  BATCH_MAX_WRITES,
  writeBatchAside,
  writeBytes,
  type BatchOutcome,
} from './batch-write.ts';
import { spoolFileName } from './spool-format.ts';

export { PARTITION_FILE, type PartitionWrite, type PartitionWriteResult } from './partition-write.ts';

/** A record that failed validation, as stored in lake/rejects. */
export interface RejectRow {
  domain: string;
  window: TimeWindow;
  reason: string;
  rawText: string;
}

export interface LakeWriterOptions {
  /** Scratch space on the data directory's filesystem (spill files, temp parquet). */
  workDir: string;
  /** DuckDB memory cap for the writer, shared by its lanes (default 256MB); it spills to `workDir` beyond it. */
  memoryLimit?: string;
  /** Partition writes that run side by side, each on its own connection (default 2). */
  lanes?: number;
  /** Where the writer says that a batch of writes fell back to one write per partition. */
  logger?: Logger;
}

/**
 * Writes the lake: partition merges, domains.parquet and rejects. One in-memory DuckDB instance
 * does the parsing and Parquet encoding on a few connections ("lanes"); writes of one partition
 * run one after another in call order (two merges of one partition never race), writes of
 * different partitions run side by side, one per lane.
 *
 * The instance runs with threads = 1, so each statement executes on the thread that issued it
 * and two lanes use two cores. Measured on 1M CDRs in 200 partitions (2 cores): one connection
 * with 2 threads took 9.9 s, two lanes of 1 thread 7.2-9.0 s (a noisy machine). A partition's
 * COPY ends with its last row group compressed by one thread; with two lanes the other lane
 * works meanwhile.
 * Two 2-thread statements side by side overran the 256MB limit.
 */
export class LakeWriter {
  private constructor(
    private readonly dataDir: string,
    private readonly lanes: KeyedLanes<Db>,
    /** The lanes' connections; the first owns the instance. */
    private readonly laneDbs: readonly Db[],
    private readonly workDir: string,
    /** What a partition write reads and writes besides its pages. */
    private readonly context: PartitionWriteContext,
    /** Writer memory one shared statement may count on: one lane's share of the cap (batch-write.ts batchWriteMiB). */
    private readonly laneMiB: number,
  ) {}

  static async open(dataDir: string, opts: LakeWriterOptions): Promise<LakeWriter> {
    await mkdir(opts.workDir, { recursive: true });
    const spill = join(opts.workDir, 'duckdb-spill');
    await mkdir(spill, { recursive: true });
    const laneCount = opts.lanes ?? 2;
    const memoryLimit = opts.memoryLimit ?? '256MB';
    if (!Number.isInteger(laneCount) || laneCount < 1) throw new Error(`lake writer lanes must be a whole number >= 1, got ${laneCount}`);
    const main = await Db.open(':memory:', {
      settings: {
        memory_limit: memoryLimit,
        threads: '1',
        temp_directory: spill,
        preserve_insertion_order: 'false',
        // A batch's COPY ... PARTITION_BY gets its rows sorted by partition (lake/batch-write.ts):
        // one open file at a time is all it needs, and each open file holds buffers the memory cap counts.
        partitioned_write_max_open_files: '4',
        // The writer reads each stored partition once, to compare or merge: a cache of those reads
        // only grows with the partitions a tick touches (~25 MiB over a tick of 1,000 domains).
        enable_external_file_cache: 'false',
      },
    });
    const laneDbs: Db[] = [main];
    try {
      while (laneDbs.length < laneCount) laneDbs.push(await main.connect());
      // Temp macros live in a connection's session: every lane loads them.
      for (const db of laneDbs) await db.exec(macrosSql);
    } catch (err) {
      for (const db of laneDbs.reverse()) db.close();
      throw err;
    }
    // A write with no pages still needs a file to read (an empty range empties the range).
    // One record without an id, which the row SQL drops.
    const emptyPage = join(opts.workDir, spoolFileName(0, true));
    await writeFile(emptyPage, '{}');
    const context = { dataDir, workDir: opts.workDir, emptyPage, ...(opts.logger ? { logger: opts.logger } : {}) };
    return new LakeWriter(dataDir, new KeyedLanes(laneDbs), laneDbs, opts.workDir, context, duckdbSizeMiB(memoryLimit) / laneCount);
  }

  /**
   * Merges fetched pages into their partition: fetched rows are upserted by id (latest copy per
   * id), every other stored row survives, except rows inside `w.prune` that were not fetched,
   * which move to lake/removed/. The removed file is published before the partition, and the
   * partition file is written aside, fsynced and renamed over `data.parquet`: a crash leaves the
   * old file or the new one, and a removed row is never in neither place.
   */
  writePartition(w: PartitionWrite): Promise<PartitionWriteResult> {
    // The fsyncs and the rename run after the lane is handed back (still before the next write
    // of this partition starts): the lane's connection goes on to another partition meanwhile.
    return this.lanes.run(
      partitionKey(w),
      (db) => writeAside(this.context, db, w),
      // Bigger writes (more pages) first when several wait for a lane.
      { then: (pending) => putInPlace(this.context, w, pending), weight: w.files.length, retryAlone: isOutOfMemoryError },
    );
  }

  /**
   * Several partition writes (distinct partitions or not), each with writePartition's meaning
   * and result, or its error: small upserts share a few statements (lake/batch-write.ts), the
   * rest are written one by one. A tick over thousands of domains is then a few statements, not
   * thousands. Writes of one partition still run in call order, also against writePartition.
   */
  async writePartitions(ws: readonly PartitionWrite[]): Promise<PromiseSettledResult<PartitionWriteResult>[]> {
    const keyOf = partitionKey;
    const sizes = await Promise.all(ws.map(writeBytes));
    const seen = new Set<string>();
    const shared: { item: number; bytes: number; mib: number }[] = [];
    const results: Promise<PartitionWriteResult>[] = new Array(ws.length);
    ws.forEach((w, i) => {
      const key = keyOf(w);
      // A second write of a partition in the same call goes after the first (its own task, same key).
      if (!seen.has(key) && batchable(w, sizes[i]!)) shared.push({ item: i, bytes: sizes[i]!, mib: batchWriteMiB(w.files.length) });
      seen.add(key);
    });
    // A lone small write gains nothing from a batch: it keeps its one streaming statement.
    const inBatch = new Set(shared.length > 1 ? shared.map((s) => s.item) : []);
    const cap = batchCapFor(
      shared.reduce((n, s) => n + s.bytes, 0),
      this.laneDbs.length,
    );
    for (const batch of batchesOf(shared.length > 1 ? shared : [], cap, BATCH_MAX_WRITES, this.laneMiB)) {
      const writes = batch.map((i) => ws[i]!);
      const done = this.lanes.run(writes.map(keyOf), (db) => writeBatchAside(this.context, db, writes), {
        then: (outcomes) => publishBatch(this.context, writes, outcomes),
        weight: writes.reduce((n, w) => n + w.files.length, 0),
      });
      batch.forEach(
        (i, k) => (results[i] = done.then((r) => r[k]!).then((r) => (r.status === 'fulfilled' ? r.value : Promise.reject(r.reason)))),
      );
    }
    ws.forEach((w, i) => {
      if (!inBatch.has(i)) results[i] = this.writePartition(w);
    });
    return Promise.allSettled(results);
  }

  /** lake/domains/domains.parquet, replaced as a whole (aside + rename). */
  writeDomains(domains: readonly DomainInfo[], fetchedAt: Date): Promise<string> {
    return this.lanes.run('domains', async (db) => {
      const dir = domainsDir(this.dataDir);
      await mkdir(dir, { recursive: true });
      const lines = domains.map((d) =>
        JSON.stringify({
          domain: d.domain,
          reseller: d.reseller ?? null,
          description: d.description ?? null,
          time_zone: d.timeZone ?? null,
          raw: JSON.stringify(d.raw),
        }),
      );
      const target = join(dir, 'domains.parquet');
      await this.publishJsonLines(
        db,
        lines,
        target,
        `{domain: 'VARCHAR', reseller: 'VARCHAR', description: 'VARCHAR', time_zone: 'VARCHAR', raw: 'VARCHAR'}`,
        (
          rows,
        ) => `SELECT domain, reseller, description, time_zone, raw::JSON AS raw, ${sqlString(fetchedAt.toISOString())}::TIMESTAMPTZ AS fetched_at
            FROM ${rows} ORDER BY domain`,
        'replace',
      );
      return target;
    });
  }

  /**
   * One parquet file per run under lake/rejects/ with the rejects not stored before: a bad record
   * the API keeps serving is refused again by every run that covers its window, and is kept
   * once (first run's file), keyed on domain and raw text. Nothing is written when nothing is
   * new. The whole read-compare-write runs under one key, so two calls cannot both add a record.
   */
  writeRejects(rejects: readonly RejectRow[], runId: string, at: Date): Promise<{ path: string | undefined; added: number }> {
    if (rejects.length === 0) return Promise.resolve({ path: undefined, added: 0 });
    return this.lanes.run('rejects', async (db) => {
      const dir = rejectsDir(this.dataDir);
      // The stored rejects decide what is new: with the lake in a bucket, read its current ones.
      await refreshLakeSideFiles(this.dataDir);
      await mkdir(dir, { recursive: true });
      const lines = rejects.map((r) =>
        JSON.stringify({
          domain: r.domain,
          window_start: r.window.start.toISOString(),
          window_end: r.window.end.toISOString(),
          reason: r.reason,
          raw_text: r.rawText,
        }),
      );
      const stamp = at.toISOString().replace(/[:.]/g, '-');
      const target = join(dir, `rejects-${stamp}-${encodePartitionValue(runId)}.parquet`);
      const stored = (await readdir(dir)).filter((f) => f.endsWith('.parquet')).map((f) => sqlString(join(dir, f)));
      const notStored = stored.length
        ? `WHERE NOT EXISTS (SELECT 1 FROM read_parquet([${stored.join(', ')}], union_by_name = true) old
                             WHERE old.domain = n.domain AND old.raw_text = n.raw_text)`
        : '';
      const added = await this.publishJsonLines(
        db,
        lines,
        target,
        `{domain: 'VARCHAR', window_start: 'VARCHAR', window_end: 'VARCHAR', reason: 'VARCHAR', raw_text: 'VARCHAR'}`,
        (rows) => `SELECT domain, window_start::TIMESTAMPTZ AS window_start, window_end::TIMESTAMPTZ AS window_end, reason, raw_text,
                   ${sqlString(at.toISOString())}::TIMESTAMPTZ AS rejected_at, ${sqlString(runId)} AS run_id
            FROM (SELECT DISTINCT ON (domain, raw_text) * FROM ${rows}) n ${notStored}`,
        'create',
      );
      return { path: added > 0 ? target : undefined, added };
    });
  }

  /** Waits for every write in flight, then closes the lanes' connections and the instance. */
  async close(): Promise<void> {
    await this.lanes.idle();
    // The connections of the other lanes first: closing the first one closes the instance.
    for (const db of [...this.laneDbs].reverse()) db.close();
  }

  /**
   * Spools JSON lines, lets DuckDB turn them into a Parquet file written aside, and renames it to
   * `target` (small side files: domains, rejects).
   */
  private async publishJsonLines(
    db: Db,
    lines: readonly string[],
    target: string,
    columns: string,
    select: (rows: string) => string,
    /** domains.parquet is replaced whole; a rejects file is new under its unique name. */
    mode: PublishMode,
  ): Promise<number> {
    const spool = join(this.workDir, `side-${randomUUID()}.ndjson`);
    const tmp = join(dirname(target), `.${basename(target)}.${randomUUID()}.tmp`);
    await writeFile(spool, lines.join('\n') + '\n');
    try {
      const rows = `read_json(${sqlString(spool)}, format = 'newline_delimited', columns = ${columns})`;
      const n = await copyCount(db, `COPY (${select(rows)}) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
      // Nothing selected (rejects all stored before): no empty file in the lake.
      if (n > 0) await publishLakeFile(this.dataDir, tmp, target, mode);
      return n;
    } finally {
      await removeQuietly(tmp);
      await removeQuietly(spool);
    }
  }
}

/** The lanes' key of a partition: its writes run one after another. */
const partitionKey = (w: PartitionWrite) => `cdrs\u0000${w.month}\u0000${w.domain}`;

/** Files published side by side after a batch (fsyncs on one filesystem overlap; a bucket takes parallel PUTs). */
const PUBLISH_CONCURRENCY = 16;

/** The file-system part of a batch: each pending write put in place (partition-write.ts putInPlace), each result settled on its own. */
async function publishBatch(
  ctx: PartitionWriteContext,
  writes: readonly PartitionWrite[],
  outcomes: readonly BatchOutcome[],
): Promise<PromiseSettledResult<PartitionWriteResult>[]> {
  const out: PromiseSettledResult<PartitionWriteResult>[] = new Array(writes.length);
  let next = 0;
  const worker = async () => {
    while (next < writes.length) {
      const i = next++;
      const o = outcomes[i]!;
      if (!o.ok) {
        out[i] = { status: 'rejected', reason: o.error };
        continue;
      }
      try {
        out[i] = { status: 'fulfilled', value: await putInPlace(ctx, writes[i]!, o.pending) };
      } catch (err) {
        out[i] = { status: 'rejected', reason: err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PUBLISH_CONCURRENCY, writes.length) }, worker));
  return out;
}
