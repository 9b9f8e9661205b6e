import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { sqlString, type Db } from '../db/duckdb.ts';
import type { TimeWindow } from '../source/index.ts';
import type { Month } from '../util/month.ts';
import { removeQuietly } from '../util/atomic-file.ts';
import type { Logger } from '../util/logger.ts';
import { DamagedLakeError, lakeFileFault, setAsideDamagedFile } from './damaged-files.ts';
import { newestCompactedFiles } from './compacted-partition.ts';
import { dropLakeFile, publishLakeFile, refreshLakeFile } from './lake-publish.ts';
import { DOMAIN_NAME_COLUMN, partitionDir, removedPartitionDir } from './layout.ts';
import {
  compareSql,
  copyCount,
  mergedRowsSql,
  mergeParts,
  PARQUET_OPTIONS,
  removedRowsSql,
  selectFetchedRows,
  withoutPartitionColumns,
} from './merge-sql.ts';
import { encodePartitionValue } from './partition-path.ts';
import { isSpoolFile } from './spool-format.ts';
import { StoreConflictError } from '../store/index.ts';

/** The one file of a partition: always this name, replaced by rename(2), so a reader never sees two. */
export const PARTITION_FILE = 'data.parquet';

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

/** What is left of a partition write once DuckDB is done with it. */
export interface PendingWrite {
  /** publish: rename `tmp` over the partition file; drop: the partition is now empty, remove it; keep: leave it as it is. */
  step: 'publish' | 'drop' | 'keep';
  tmp: string;
  result: PartitionWriteResult;
}

/** Where a partition write reads and writes. */
export interface PartitionWriteContext {
  dataDir: string;
  /** Scratch space on the data directory's filesystem (staging files). */
  workDir: string;
  /** A spool file with one record without an id: what a write with no pages reads. */
  emptyPage: string;
  logger?: Logger;
}

/** The DuckDB part of a partition write: the new file written aside (or the verdict that none is needed). */
export async function writeAside(ctx: PartitionWriteContext, db: Db, w: PartitionWrite): Promise<PendingWrite> {
  const dir = partitionDir(ctx.dataDir, w.month, w.domain);
  const target = join(dir, PARTITION_FILE);
  // A JSON array read as a spool file would be one record without an id: nothing loaded, no error.
  const foreign = w.files.find((f) => !isSpoolFile(f));
  if (foreign)
    throw new Error(
      `lake writer was given ${foreign}, which is not a spool file (lake/spool-format.ts: <seq>.jsonrs); write pages with PageSpool`,
    );
  const files = w.files.length > 0 ? [...w.files] : [ctx.emptyPage];
  const selectNew = selectFetchedRows({ files, domain: w.domain, range: w.range, ingestedAt: w.ingestedAt, duplicateIds: w.duplicateIds });
  // With the lake in a bucket, the merge reads the object's current version (and later writes on it).
  await refreshLakeFile(ctx.dataDir, target);
  // A damaged partition file is moved aside (and its month fetched again by a later run), never merged into.
  if (existsSync(target)) await refuseDamaged(ctx.dataDir, target, w);
  const hasOld = existsSync(target);
  // A compacted month keeps the domain's rows in its compacted files: the domain's own partition
  // starts from them, so that it holds all of the domain's rows once it exists (the readers' rule).
  const compactedRows = hasOld ? undefined : await compactedRowsOf(db, ctx.dataDir, w.month, w.domain);
  await mkdir(dir, { recursive: true });
  await removeStaleTemps(dir);
  const tmp = join(dir, `.${PARTITION_FILE}.${randomUUID()}.tmp`);
  let stagingFile: string | undefined;
  try {
    if (!hasOld && !compactedRows) {
      // Fresh partition: one streaming statement from page bodies to Parquet.
      const rows = await copyCount(db, `COPY (${withoutPartitionColumns(selectNew, w.domain)}) TO ${sqlString(tmp)} (${PARQUET_OPTIONS})`);
      if (rows === 0)
        return {
          step: 'keep',
          tmp,
          result: { path: target, rowsInRange: 0, rowsNotListed: 0, rowsRemoved: 0, rowsTotal: 0, changed: false },
        };
      return {
        step: 'publish',
        tmp,
        result: { path: target, rowsInRange: rows, rowsNotListed: 0, rowsRemoved: 0, rowsTotal: rows, changed: true },
      };
    }
    // Stage the fetched rows as Parquet first (one streaming pass over the JSON); every
    // comparison and the merge then read columns of that file, so nothing is held in memory.
    const staging = join(ctx.workDir, `staging-${randomUUID()}.parquet`);
    stagingFile = staging;
    const nNew = await copyCount(db, `COPY (${selectNew}) TO ${sqlString(staging)} (${PARQUET_OPTIONS})`);
    const m = mergeParts(staging, target, w.prune ?? [], compactedRows);
    const cmp = await db.one<{
      changed: string | number;
      not_listed: string | number;
      to_remove: string | number;
      n_total: string | number;
    }>(compareSql(m, w.range));
    const rowsNotListed = Number(cmp?.not_listed ?? 0);
    const toRemove = Number(cmp?.to_remove ?? 0);
    if (Number(cmp?.changed ?? 0) === 0 && toRemove === 0) {
      return {
        step: 'keep',
        tmp,
        result: { path: target, rowsInRange: nNew, rowsNotListed, rowsRemoved: 0, rowsTotal: Number(cmp?.n_total ?? 0), changed: false },
      };
    }
    let removedPath: string | undefined;
    if (toRemove > 0) {
      const removedDir = removedPartitionDir(ctx.dataDir, w.month, w.domain);
      await mkdir(removedDir, { recursive: true });
      removedPath = join(removedDir, `removed-${w.ingestedAt.toISOString().replace(/[:.]/g, '-')}-${randomUUID()}.parquet`);
      const removedTmp = join(removedDir, `.${basename(removedPath)}.tmp`);
      try {
        await copyCount(
          db,
          `COPY (${removedRowsSql(m, w.ingestedAt)})
             TO ${sqlString(removedTmp)} (${PARQUET_OPTIONS})`,
        );
        await publishLakeFile(ctx.dataDir, removedTmp, removedPath, 'create');
      } finally {
        await removeQuietly(removedTmp);
      }
    }
    const rows = await copyCount(
      db,
      `COPY (${withoutPartitionColumns(mergedRowsSql(m), w.domain)}) TO ${sqlString(tmp)} (${PARQUET_OPTIONS})`,
    );
    const result = {
      path: target,
      rowsInRange: nNew,
      rowsNotListed,
      rowsRemoved: toRemove,
      ...(removedPath ? { removedPath } : {}),
      rowsTotal: rows,
      changed: true,
    };
    // No rows: every stored row was removed and nothing was fetched, so the partition goes away.
    return { step: rows === 0 ? 'drop' : 'publish', tmp, result };
  } catch (err) {
    await removeQuietly(tmp);
    // A footer only DuckDB can find fault with: the same treatment as a truncated file.
    if (hasOld && existsSync(target)) await refuseDamaged(ctx.dataDir, target, w, db);
    throw partitionWriteError(w, err);
  } finally {
    if (stagingFile) await removeQuietly(stagingFile);
  }
}

/** The file-system part: fsync and rename the new file over data.parquet, or remove what is not needed. */
export async function putInPlace(
  ctx: Pick<PartitionWriteContext, 'dataDir'>,
  w: PartitionWrite,
  p: PendingWrite,
): Promise<PartitionWriteResult> {
  try {
    if (p.step === 'publish') {
      await publishLakeFile(ctx.dataDir, p.tmp, p.result.path, 'merge');
    } else {
      await removeQuietly(p.tmp);
      if (p.step === 'drop') await dropLakeFile(ctx.dataDir, p.result.path);
    }
    return p.result;
  } catch (err) {
    await removeQuietly(p.tmp);
    // A refused conditional write keeps its own class: the caller tells "lost to another writer" apart.
    if (err instanceof StoreConflictError) throw err;
    throw partitionWriteError(w, err);
  }
}

/** The domain's rows in its month's newest compacted generation, as a FROM item; undefined when it has none. */
export async function compactedRowsOf(db: Db, dataDir: string, month: Month, domain: string): Promise<string | undefined> {
  const files = newestCompactedFiles(dataDir, month);
  if (files.length === 0) return undefined;
  const rows = `(SELECT * FROM read_parquet([${files.map(sqlString).join(', ')}], union_by_name = true) WHERE ${DOMAIN_NAME_COLUMN} = ${sqlString(domain)})`;
  const found = await db.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${rows}`);
  return Number(found?.n ?? 0) > 0 ? rows : undefined;
}

/** Temp files a killed run left behind are never read (they do not end in .parquet); tidy them. */
export async function removeStaleTemps(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name.startsWith('.') && name.endsWith('.tmp')) await removeQuietly(join(dir, name));
  }
}

/**
 * Throws DamagedLakeError, after moving the file aside (lake/damaged-files.ts), when the
 * partition file is not a whole Parquet file. This write fails; the next one finds no file and
 * starts the partition afresh, and the moved-back watermark has the lost rows fetched again.
 */
export async function refuseDamaged(dataDir: string, target: string, w: PartitionWrite, db?: Db): Promise<void> {
  const reason = await lakeFileFault(target, db);
  if (!reason) return;
  throw new DamagedLakeError([
    await setAsideDamagedFile({ dataDir, file: target, reason, at: w.ingestedAt, month: w.month, domain: w.domain }),
  ]);
}

/** The error of one partition's failed write: which partition, why, and that it is unchanged. */
export function partitionWriteError(w: PartitionWrite, err: unknown): Error {
  return new Error(
    `writing lake partition month=${w.month} domain=${encodePartitionValue(w.domain)} failed: ${err instanceof Error ? err.message : String(err)}. ` +
      'The partition is unchanged; re-run ingest for this range.',
  );
}
