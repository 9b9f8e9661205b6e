import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Db, sqlString } from '../db/duckdb.ts';
import type { DomainInfo, TimeWindow } from '../source/types.ts';
import type { Month } from '../util/month.ts';
import { publishFile, removeQuietly } from '../util/atomic-file.ts';
import { DamagedLakeError, lakeFileFault, setAsideDamagedFile } from './damaged-files.ts';
import { DOMAIN_NAME_COLUMN, domainsDir, partitionDir, rejectsDir, removedPartitionDir } from './layout.ts';
import { encodePartitionValue, isShortPartitionValue } from './partition-path.ts';
import { KeyedLanes } from './keyed-lanes.ts';
import { FETCH_SEQ_PATTERN, isPlainSpoolFile, isSpoolFile, spoolFileName } from './spool-format.ts';
import { fillSql, lakeSql } from './sql-files.ts';

/** The one file of a partition: always this name, replaced by rename(2), so a reader never sees two. */
export const PARTITION_FILE = 'data.parquet';

const macrosSql = lakeSql('cdr-macros.sql');
const rowsSql = lakeSql('cdr-rows.sql');
const plainRowsSql = lakeSql('cdr-rows-plain.sql');

/** Merge one range of fetched pages into a (month, domain) partition. */
export interface PartitionWrite {
  domain: string;
  month: Month;
  /**
   * The range the pages in `files` cover. Their rows are upserted by id (a newer copy replaces the
   * stored one wherever it lies in the partition); stored rows of the range that the pages lack
   * are kept and counted (`rowsNotListed`), unless they lie in one of `prune`.
   */
  range: TimeWindow;
  /**
   * Parts of `range` whose answer is confirmed complete and whose stored rows that were not
   * fetched are to be removed: they move to lake/removed/ (with `removed_at`), never dropped.
   * Default none: a write never removes a stored row.
   */
  prune?: readonly TimeWindow[];
  /**
   * Spool files (lake/spool-format.ts: records separated by RS, named by fetch sequence, `.plain`
   * when every record is plain); the higher sequence wins on a duplicate id.
   */
  files: readonly string[];
  ingestedAt: Date;
  /**
   * Ids that occur more than once in `files` within `range`, when the caller knows them (the
   * ingest runner does): only those rows go through the de-duplication pass, so memory stays
   * flat. Undefined: every row is de-duplicated (safe, but holds the whole set in memory).
   */
  duplicateIds?: readonly string[];
}

/**
 * Keeps the copy of an id fetched last (highest spool sequence number). Ids compare as the lake
 * stores them (`cdr_id`, the same rule as source/cdr-id.ts): ' 0123 ' and '0123' are one CDR.
 */
const ROW_ID = 'cdr_id(r."id")';
const DEDUP_CLAUSE = `QUALIFY row_number() OVER (PARTITION BY ${ROW_ID} ORDER BY fetch_seq DESC) = 1`;
/** The spool file's sequence number: the later fetch of an id wins. */
const FETCH_SEQ = `CAST(regexp_extract(filename, ${sqlString(FETCH_SEQ_PATTERN)}, 1) AS BIGINT)`;
const withoutSeq = (rows: string) => `SELECT * EXCLUDE (fetch_seq) FROM (${rows})`;
/**
 * Row groups by size, not count: raw JSON makes 122 880-row groups hundreds of MB in memory.
 * ZSTD level 1: on the raw column it is faster than the default level 3 and, measured on
 * simulated pages, no larger (18.8 vs 19.6 MiB for 200k CDRs).
 */
export const PARQUET_OPTIONS = `FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, ROW_GROUP_SIZE_BYTES '16MB'`;

export interface PartitionWriteResult {
  path: string;
  /** Distinct CDRs fetched for `range` (all of them now in the partition). */
  rowsInRange: number;
  /** Stored rows of `range` (outside `prune`) whose id the pages lacked: kept. */
  rowsNotListed: number;
  /** Stored rows moved to lake/removed/ (only inside `prune`). */
  rowsRemoved: number;
  /** The lake/removed/ file holding them. */
  removedPath?: string;
  /** Rows in the partition file after the write. */
  rowsTotal: number;
  /** False when the partition already held exactly these rows for the range (nothing rewritten). */
  changed: boolean;
}

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
    private readonly emptyPage: string,
  ) {}

  static async open(dataDir: string, opts: LakeWriterOptions): Promise<LakeWriter> {
    await mkdir(opts.workDir, { recursive: true });
    const spill = join(opts.workDir, 'duckdb-spill');
    await mkdir(spill, { recursive: true });
    const laneCount = opts.lanes ?? 2;
    if (!Number.isInteger(laneCount) || laneCount < 1) throw new Error(`lake writer lanes must be a whole number >= 1, got ${laneCount}`);
    const main = await Db.open(':memory:', {
      settings: {
        memory_limit: opts.memoryLimit ?? '256MB',
        threads: '1',
        temp_directory: spill,
        preserve_insertion_order: 'false',
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
    return new LakeWriter(dataDir, new KeyedLanes(laneDbs), laneDbs, opts.workDir, emptyPage);
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
      `cdrs\u0000${w.month}\u0000${w.domain}`,
      (db) => this.writeAside(db, w),
      // Bigger writes (more pages) first when several wait for a lane.
      { then: (pending) => this.putInPlace(w, pending), weight: w.files.length },
    );
  }

  /** The DuckDB part of a partition write: the new file written aside (or the verdict that none is needed). */
  private async writeAside(db: Db, w: PartitionWrite): Promise<PendingWrite> {
    const dir = partitionDir(this.dataDir, w.month, w.domain);
    const target = join(dir, PARTITION_FILE);
    // A JSON array read as a spool file would be one record without an id: nothing loaded, no error.
    const foreign = w.files.find((f) => !isSpoolFile(f));
    if (foreign) throw new Error(`lake writer was given ${foreign}, which is not a spool file (lake/spool-format.ts: <seq>.jsonrs); write pages with PageSpool`);
    const files = w.files.length > 0 ? [...w.files] : [this.emptyPage];
    // The plain SQL only when every file says its records are plain (the general SQL gives the same rows, slower).
    const sql = files.every(isPlainSpoolFile) ? plainRowsSql : rowsSql;
    const a = sqlString(w.range.start.toISOString());
    const b = sqlString(w.range.end.toISOString());
    const rowsWith = (filter: string, dedup: boolean) =>
      withoutSeq(
        fillSql(sql, {
          files: `[${files.map(sqlString).join(', ')}]`,
          domain: sqlString(w.domain),
          ingested_at: sqlString(w.ingestedAt.toISOString()),
          range_start: a,
          range_end: b,
          dedup: (filter ? `  AND ${filter}\n` : '') + (dedup ? DEDUP_CLAUSE : ''),
          fetch_seq: dedup ? FETCH_SEQ : 'NULL::BIGINT',
        }),
      );
    const dups = w.duplicateIds;
    const dupList = dups && dups.length > 0 ? `[${dups.map(sqlString).join(', ')}]` : '';
    const selectNew =
      dups === undefined
        ? rowsWith('', true)
        : dups.length === 0
          ? rowsWith('', false)
          : // Only the few ids that came twice pay for the window function.
            `${rowsWith(`NOT list_contains(${dupList}, ${ROW_ID})`, false)} UNION ALL BY NAME ${rowsWith(`list_contains(${dupList}, ${ROW_ID})`, true)}`;
    const inRange = `start_time >= ${a}::TIMESTAMPTZ AND start_time < ${b}::TIMESTAMPTZ`;
    // A damaged partition file is moved aside (and its month fetched again by a later run), never merged into.
    if (existsSync(target)) await refuseDamaged(this.dataDir, target, w);
    const old = existsSync(target) ? `read_parquet(${sqlString(target)}, hive_partitioning = false)` : undefined;
    await mkdir(dir, { recursive: true });
    await this.removeStaleTemps(dir);
    const tmp = join(dir, `.${PARTITION_FILE}.${randomUUID()}.tmp`);
    let stagingFile: string | undefined;
    try {
      if (!old) {
        // Fresh partition: one streaming statement from page bodies to Parquet.
        const rows = await copyCount(db, `COPY (${withoutPartitionColumns(selectNew, w.domain)}) TO ${sqlString(tmp)} (${PARQUET_OPTIONS})`);
        if (rows === 0) return { step: 'keep', tmp, result: { path: target, rowsInRange: 0, rowsNotListed: 0, rowsRemoved: 0, rowsTotal: 0, changed: false } };
        return { step: 'publish', tmp, result: { path: target, rowsInRange: rows, rowsNotListed: 0, rowsRemoved: 0, rowsTotal: rows, changed: true } };
      }
      // Stage the fetched rows as Parquet first (one streaming pass over the JSON); every
      // comparison and the merge then read columns of that file, so nothing is held in memory.
      const staging = join(this.workDir, `staging-${randomUUID()}.parquet`);
      stagingFile = staging;
      const nNew = await copyCount(db, `COPY (${selectNew}) TO ${sqlString(staging)} (${PARQUET_OPTIONS})`);
      const fresh = `read_parquet(${sqlString(staging)})`;
      // coalesce: a stored row without a start time (or id) is never in a pruned range, and is kept.
      const notFresh = `coalesce(o.id NOT IN (SELECT id FROM ${fresh}), true)`;
      const pruned = `coalesce(${pruneCondition(w.prune ?? [], 'o.start_time')}, false)`;
      // Fresh rows not stored exactly as they are (new or changed: compared by a hash of (id, raw)),
      // stored rows of the range the answer lacks, and of those the ones to remove.
      const cmp = await db.one<{ changed: string | number; not_listed: string | number; to_remove: string | number; n_total: string | number }>(`
        SELECT
          (SELECT count(*) FROM (SELECT hash(id, raw::VARCHAR) AS h FROM ${fresh}) f
             WHERE f.h NOT IN (SELECT hash(id, raw::VARCHAR) FROM ${old})) AS changed,
          (SELECT count(*) FROM ${old} o WHERE ${inRange.replaceAll('start_time', 'o.start_time')} AND ${notFresh} AND NOT ${pruned}) AS not_listed,
          (SELECT count(*) FROM ${old} o WHERE ${notFresh} AND ${pruned}) AS to_remove,
          (SELECT count(*) FROM ${old}) AS n_total`);
      const rowsNotListed = Number(cmp?.not_listed ?? 0);
      const toRemove = Number(cmp?.to_remove ?? 0);
      if (Number(cmp?.changed ?? 0) === 0 && toRemove === 0) {
        return { step: 'keep', tmp, result: { path: target, rowsInRange: nNew, rowsNotListed, rowsRemoved: 0, rowsTotal: Number(cmp?.n_total ?? 0), changed: false } };
      }
      let removedPath: string | undefined;
      if (toRemove > 0) {
        const removedDir = removedPartitionDir(this.dataDir, w.month, w.domain);
        await mkdir(removedDir, { recursive: true });
        removedPath = join(removedDir, `removed-${w.ingestedAt.toISOString().replace(/[:.]/g, '-')}-${randomUUID()}.parquet`);
        const removedTmp = join(removedDir, `.${basename(removedPath)}.tmp`);
        try {
          await copyCount(
            db,
            `COPY (SELECT o.*, ${sqlString(w.ingestedAt.toISOString())}::TIMESTAMPTZ AS removed_at FROM ${old} o WHERE ${notFresh} AND ${pruned})
             TO ${sqlString(removedTmp)} (${PARQUET_OPTIONS})`,
          );
          await publishFile(removedTmp, removedPath);
        } finally {
          await removeQuietly(removedTmp);
        }
      }
      const merged = `
          SELECT * FROM ${fresh}
          UNION ALL BY NAME
          SELECT o.* FROM ${old} o
          WHERE ${notFresh} AND NOT ${pruned}`;
      const rows = await copyCount(db, `COPY (${withoutPartitionColumns(merged, w.domain)}) TO ${sqlString(tmp)} (${PARQUET_OPTIONS})`);
      const result = { path: target, rowsInRange: nNew, rowsNotListed, rowsRemoved: toRemove, ...(removedPath ? { removedPath } : {}), rowsTotal: rows, changed: true };
      // No rows: every stored row was removed and nothing was fetched, so the partition goes away.
      return { step: rows === 0 ? 'drop' : 'publish', tmp, result };
    } catch (err) {
      await removeQuietly(tmp);
      // A footer only DuckDB can find fault with: the same treatment as a truncated file.
      if (old && existsSync(target)) await refuseDamaged(this.dataDir, target, w, db);
      throw partitionWriteError(w, err);
    } finally {
      if (stagingFile) await removeQuietly(stagingFile);
    }
  }

  /** The file-system part: fsync and rename the new file over data.parquet, or remove what is not needed. */
  private async putInPlace(w: PartitionWrite, p: PendingWrite): Promise<PartitionWriteResult> {
    try {
      if (p.step === 'publish') {
        await publishFile(p.tmp, p.result.path);
      } else {
        await removeQuietly(p.tmp);
        if (p.step === 'drop') await rm(p.result.path, { force: true });
      }
      return p.result;
    } catch (err) {
      await removeQuietly(p.tmp);
      throw partitionWriteError(w, err);
    }
  }

  /** lake/domains/domains.parquet, replaced as a whole (aside + rename). */
  writeDomains(domains: readonly DomainInfo[], fetchedAt: Date): Promise<string> {
    return this.lanes.run('domains', async (db) => {
      const dir = domainsDir(this.dataDir);
      await mkdir(dir, { recursive: true });
      const lines = domains.map((d) =>
        JSON.stringify({ domain: d.domain, reseller: d.reseller ?? null, description: d.description ?? null, time_zone: d.timeZone ?? null, raw: JSON.stringify(d.raw) }),
      );
      const target = join(dir, 'domains.parquet');
      await this.publishJsonLines(
        db,
        lines,
        target,
        `{domain: 'VARCHAR', reseller: 'VARCHAR', description: 'VARCHAR', time_zone: 'VARCHAR', raw: 'VARCHAR'}`,
        (rows) => `SELECT domain, reseller, description, time_zone, raw::JSON AS raw, ${sqlString(fetchedAt.toISOString())}::TIMESTAMPTZ AS fetched_at
            FROM ${rows} ORDER BY domain`,
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
      await mkdir(dir, { recursive: true });
      const lines = rejects.map((r) =>
        JSON.stringify({ domain: r.domain, window_start: r.window.start.toISOString(), window_end: r.window.end.toISOString(), reason: r.reason, raw_text: r.rawText }),
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
  private async publishJsonLines(db: Db, lines: readonly string[], target: string, columns: string, select: (rows: string) => string): Promise<number> {
    const spool = join(this.workDir, `side-${randomUUID()}.ndjson`);
    const tmp = join(dirname(target), `.${basename(target)}.${randomUUID()}.tmp`);
    await writeFile(spool, lines.join('\n') + '\n');
    try {
      const rows = `read_json(${sqlString(spool)}, format = 'newline_delimited', columns = ${columns})`;
      const n = await copyCount(db, `COPY (${select(rows)}) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
      // Nothing selected (rejects all stored before): no empty file in the lake.
      if (n > 0) await publishFile(tmp, target);
      return n;
    } finally {
      await removeQuietly(tmp);
      await removeQuietly(spool);
    }
  }


  /** Temp files a killed run left behind are never read (they do not end in .parquet); tidy them. */
  private async removeStaleTemps(dir: string): Promise<void> {
    for (const name of await readdir(dir)) {
      if (name.startsWith('.') && name.endsWith('.tmp')) await removeQuietly(join(dir, name));
    }
  }
}

/**
 * Partition files hold no `domain` column: the value lives in the path (`domain=<encoded>`), as in
 * files written by Hive, Spark or DuckDB's PARTITION_BY. Readers that refuse a column that is both
 * in the path and in the file (DataFusion, older Polars) then read the lake as it is, and every
 * hive-aware reader gets the one decoded value from the path. (Files written before this carry the
 * column; the next merge of their partition drops it.) Files under a short partition name also
 * hold `domain_name`, the full name the path cannot spell.
 */
function withoutPartitionColumns(select: string, domain: string): string {
  // A short partition name (partition-path.ts) cannot be decoded: its files carry the full name.
  const fullName = isShortPartitionValue(encodePartitionValue(domain)) ? `, ${sqlString(domain)}::VARCHAR AS ${DOMAIN_NAME_COLUMN}` : '';
  return `SELECT COLUMNS(c -> c NOT IN ('domain', ${sqlString(DOMAIN_NAME_COLUMN)}))${fullName} FROM (${select})`;
}

/**
 * Throws DamagedLakeError, after moving the file aside (lake/damaged-files.ts), when the
 * partition file is not a whole Parquet file. This write fails; the next one finds no file and
 * starts the partition afresh, and the moved-back watermark has the lost rows fetched again.
 */
async function refuseDamaged(dataDir: string, target: string, w: PartitionWrite, db?: Db): Promise<void> {
  const reason = await lakeFileFault(target, db);
  if (!reason) return;
  throw new DamagedLakeError([await setAsideDamagedFile({ dataDir, file: target, reason, at: w.ingestedAt, month: w.month, domain: w.domain })]);
}

/** SQL true for a row whose `column` lies in one of `ranges` (false for none). */
function pruneCondition(ranges: readonly TimeWindow[], column: string): string {
  if (ranges.length === 0) return 'false';
  return ranges
    .map((r) => `(${column} >= ${sqlString(r.start.toISOString())}::TIMESTAMPTZ AND ${column} < ${sqlString(r.end.toISOString())}::TIMESTAMPTZ)`)
    .join(' OR ');
}

/** What is left of a partition write once DuckDB is done with it. */
interface PendingWrite {
  /** publish: rename `tmp` over the partition file; drop: the partition is now empty, remove it; keep: leave it as it is. */
  step: 'publish' | 'drop' | 'keep';
  tmp: string;
  result: PartitionWriteResult;
}

function partitionWriteError(w: PartitionWrite, err: unknown): Error {
  return new Error(
    `writing lake partition month=${w.month} domain=${encodePartitionValue(w.domain)} failed: ${err instanceof Error ? err.message : String(err)}. ` +
      'The partition is unchanged; re-run ingest for this range.',
  );
}

/** Runs a COPY and returns the row count DuckDB reports for it. */
async function copyCount(db: Db, sql: string): Promise<number> {
  const rows = await db.all(sql);
  const first = rows[0];
  return first ? Number(Object.values(first)[0]) : 0;
}
