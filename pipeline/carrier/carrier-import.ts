import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, rename, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { resolveProjectPath, type StageContext } from '../config/index.ts';
import { Db, sqlString } from '../db/duckdb.ts';
import {
  UNKNOWN_MONTH,
  carrierCdrsDir,
  carrierPartitionDir,
  carrierRejectsDir,
  carrierRejectsPartitionDir,
  dropLakeFile,
  encodePartitionValue,
  lakeDir,
  publishLakeFile,
} from '../lake/index.ts';
import { prepareLakeForReading } from '../store/index.ts';
import { removeQuietly } from '../util/atomic-file.ts';
import { UsageError } from '../util/errors.ts';
import { acquireLock } from '../util/lock.ts';
import { isMonth } from '../util/month.ts';
import { cleanHeaderLine, matchHeader, sniffDelimiter, splitHeader } from './carrier-header.ts';
import { readManifests, removeManifest, writeManifest, type ImportManifest } from './carrier-manifest.ts';
import { scanFile, type FileScan } from './carrier-scan.ts';
import { resolveCarrier } from './carrier-settings.ts';
import { OK_KIND, REJECT_REASONS, ROWS_PER_FLUSH, SKIP_KIND, carrierSelectSql, type RejectCode } from './carrier-sql.ts';
import { writeNumberedCopy } from './carrier-numbered.ts';

export interface CarrierImportOptions extends StageContext {
  /** The carrier's CSV/TSV file, optionally gzip-compressed. */
  file: string;
  /** A configured carrier name, or a preset's. */
  carrier: string;
  /** Reject lines outside this UTC month (YYYY-MM). */
  month?: string;
  /** The earlier import this file corrects: its file name or (a prefix of) its SHA-256. */
  replaces?: string;
}

export interface CarrierImportResult {
  carrier: string;
  file: string;
  sha256: string;
  /** UTC months the file's records fall in. */
  months: string[];
  loaded: number;
  rejected: number;
  /** Unanswered attempts: no start time and nothing billed. */
  skipped: number;
  /** The first rejected lines, by line number. */
  rejects: { line: number; reason: string }[];
  /** True when these exact bytes were imported before: nothing changed. */
  unchanged: boolean;
  /** The file name and hash of the import this one replaced (comma-separated when several). */
  replaced?: string;
}

/** DuckDB's memory cap for the import. */
const IMPORT_MEMORY = '256MB';

/** How many rejected lines the result lists (all of them are in the lake). */
export const REJECTS_SHOWN = 20;

const numbersMacros = () => readFileSync(resolveProjectPath('reports/macros/numbers.sql'), 'utf8');

/** Files in `dir` that belong to the import `sha` (<sha>.parquet, <sha>.<n>.parquet). */
async function filesOf(dir: string, sha: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => n.startsWith(sha) && n.endsWith('.parquet')).map((n) => join(dir, n));
  } catch {
    return [];
  }
}

/** Every month folder under lake/<area>/carrier=<name>. */
async function monthDirs(area: string, carrier: string): Promise<string[]> {
  const root = join(area, `carrier=${encodePartitionValue(carrier)}`);
  try {
    return (await readdir(root)).filter((n) => n.startsWith('month=')).map((n) => join(root, n));
  } catch {
    return [];
  }
}

/** Removes every lake file of import `sha` of `carrier` (records and rejects), then its manifest. */
async function removeImport(dataDir: string, carrier: string, sha: string): Promise<void> {
  for (const area of [carrierCdrsDir(dataDir), carrierRejectsDir(dataDir)]) {
    for (const dir of await monthDirs(area, carrier)) for (const f of await filesOf(dir, sha)) await dropLakeFile(dataDir, f);
  }
  await removeManifest(dataDir, carrier, sha);
}

function headerProblem(
  file: string,
  carrier: string,
  formatName: string,
  missing: string[],
  headers: string[],
  delimiter: string,
): UsageError {
  const shown = headers.length > 12 ? [...headers.slice(0, 12), '…'] : headers;
  return new UsageError(
    `${file}: the header lacks ${missing.map((m) => JSON.stringify(m)).join(', ')} needed by carrier ${carrier} (format ${formatName}); ` +
      `found ${shown.map((h) => JSON.stringify(h)).join(', ')} separated by ${JSON.stringify(delimiter)}. ` +
      `Check --carrier, or map the columns in carriers.${carrier}.columns of jobs.config.ts.`,
  );
}

/** The earlier imports a new file replaces: the named one, else same file name with a month in common. */
function replacedBy(manifests: ImportManifest[], fileName: string, months: string[], sha: string, replaces?: string): ImportManifest[] {
  if (replaces !== undefined) {
    const hit = manifests.filter(
      (m) => m.sha256 !== sha && (m.fileName === replaces || (replaces.length >= 8 && m.sha256.startsWith(replaces))),
    );
    if (hit.length === 0) {
      throw new UsageError(`--replaces ${JSON.stringify(replaces)}: no earlier import of this carrier has that file name or hash`);
    }
    return hit;
  }
  return manifests.filter((m) => m.sha256 !== sha && m.fileName === fileName && m.months.some((x) => months.includes(x)));
}

/**
 * Imports one carrier CDR file into lake/carrier_cdrs/carrier=<name>/month=YYYY-MM/<sha256>.parquet
 * (one file per source file and month) and its rejected lines into lake/carrier_rejects. The file is
 * copied with each record's line number in front, then DuckDB's read_csv parses, types and splits
 * it in one parallel, streamed pass (bounded memory at any size); records and rejects
 * are written aside and renamed into place, so a failed or killed import leaves the lake as it
 * was. The same bytes again change nothing; a file with the same name covering a month an earlier
 * one covered (or named by `replaces`) replaces that file's rows.
 */
export async function importCarrierFile(opts: CarrierImportOptions): Promise<CarrierImportResult> {
  const carrier = resolveCarrier(opts.config, opts.carrier);
  if (opts.month !== undefined && !isMonth(opts.month)) throw new UsageError(`--month ${JSON.stringify(opts.month)}: expected YYYY-MM`);
  const fileStat = await stat(opts.file).catch(() => undefined);
  if (!fileStat?.isFile()) throw new UsageError(`${opts.file}: no such file`);
  const fileName = basename(opts.file);

  const scan: FileScan = await scanFile(opts.file, opts.signal);
  if (scan.headerLine === undefined || cleanHeaderLine(scan.headerLine).trim() === '') {
    throw new UsageError(
      `${opts.file} is empty: a carrier file starts with a header line (carrier ${carrier.name} needs ${Object.values(carrier.format.columns).join(', ')})`,
    );
  }
  const headerLine = cleanHeaderLine(scan.headerLine);
  const delimiter = carrier.delimiter ?? sniffDelimiter(headerLine);
  const headers = splitHeader(headerLine, delimiter);
  const match = matchHeader(headers, carrier.format.columns);
  if (match.missing.length > 0) throw headerProblem(opts.file, carrier.name, carrier.format.name, match.missing, headers, delimiter);

  const lock = await acquireLock(join(lakeDir(opts.dataDir), 'carrier_imports', `carrier=${encodePartitionValue(carrier.name)}.lock`), {
    purpose: `carrier import ${carrier.name}`,
    clock: opts.clock,
  });
  try {
    // With the lake in a bucket: this carrier's imports as the bucket has them (another machine may have imported).
    await prepareLakeForReading(opts, {
      prefixes: ['carrier_imports/', 'carrier_cdrs/', 'carrier_rejects/'].map((a) => `${a}carrier=${encodePartitionValue(carrier.name)}/`),
    });
    const manifests = await readManifests(opts.dataDir, carrier.name);
    const known = manifests.find((m) => m.sha256 === scan.sha256);
    if (known) {
      // A correction whose old files a killed run left behind: finish removing them.
      for (const old of known.replaces) await removeImport(opts.dataDir, carrier.name, old);
      opts.logger.info({ carrier: carrier.name, file: opts.file, sha256: scan.sha256 }, 'carrier file already imported: nothing changed');
      return {
        carrier: carrier.name,
        file: opts.file,
        sha256: scan.sha256,
        months: known.months,
        loaded: known.loaded,
        rejected: known.rejected,
        skipped: known.skipped,
        rejects: [],
        unchanged: true,
      };
    }
    return await importNew(opts, { carrier, scan, delimiter, headers, index: match.index, fileName, manifests });
  } finally {
    await lock.release();
  }
}

interface Prepared {
  carrier: ReturnType<typeof resolveCarrier>;
  scan: FileScan;
  delimiter: string;
  headers: string[];
  index: ReturnType<typeof matchHeader>['index'];
  fileName: string;
  manifests: ImportManifest[];
}

async function importNew(opts: CarrierImportOptions, p: Prepared): Promise<CarrierImportResult> {
  const { carrier, scan } = p;
  const importedAt = opts.clock.now();
  const work = join(lakeDir(opts.dataDir), `.carrier-import-${process.pid}-${randomBytes(4).toString('hex')}`);
  const split = join(work, 'split');
  await mkdir(work, { recursive: true });
  // Memory stays flat at any file size: DuckDB streams the CSV into the partitioned Parquet
  // writer, spilling to the work folder when it must.
  const db = await Db.open(':memory:', {
    settings: {
      memory_limit: IMPORT_MEMORY,
      preserve_insertion_order: 'false',
      temp_directory: join(work, 'spill'),
      partitioned_write_flush_threshold: String(ROWS_PER_FLUSH),
    },
  });
  try {
    // Timestamps without an offset are read in the carrier's zone: the session's, for this import.
    await db.run(`SET TimeZone = ${sqlString(carrier.timeZone)}`);
    await db.exec(numbersMacros());
    // The file's text with each record's line number in front: one parallel pass reads the
    // numbers with the fields (no row order to keep, no copy of the fields in file order).
    const numberedFile = join(work, 'numbered.txt');
    await writeNumberedCopy({
      file: opts.file,
      gzip: scan.gzip,
      delimiter: p.delimiter,
      out: numberedFile,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const input = {
      numberedFile,
      delimiter: p.delimiter,
      columnCount: p.headers.length,
      index: p.index,
      timeZone: carrier.timeZone,
      currency: carrier.currency,
      sha256: scan.sha256,
      fileName: p.fileName,
      importedAt,
      ...(opts.month ? { month: opts.month } : {}),
      rejectsTable: 'carrier_parse_errors',
      rejectsScan: 'carrier_parse_scans',
      plainRecords: scan.plainRecords,
    };
    if (opts.signal?.aborted) throw opts.signal.reason;
    // One parallel pass: typed rows split by kind and month.
    await db.run(
      `COPY (${carrierSelectSql(input)}) TO ${sqlString(split)} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, PARTITION_BY (kind, month), WRITE_PARTITION_COLUMNS false, ROW_GROUP_SIZE ${ROWS_PER_FLUSH})`,
    );
    if (opts.signal?.aborted) throw opts.signal.reason;

    // Lines DuckDB could not split into the header's columns (too many or too few fields, an
    // unclosed quote, bad UTF-8), with DuckDB's line numbers and the line as read.
    const parseErrors = await db.all<{ line: string; raw: string; error_type: string; error_message: string }>(
      `SELECT CAST(line AS BIGINT) AS line, any_value(ltrim(csv_line, chr(10) || chr(13))) AS raw, any_value(error_type) AS error_type,
              any_value(error_message) AS error_message
       FROM carrier_parse_errors GROUP BY line ORDER BY line`,
    );
    const parts = await splitParts(split);
    // hive_partitioning off: the split folders' kind and month are not lake columns.
    const fixed = (file: string): string => `read_parquet(${sqlString(file)}, hive_partitioning = false)`;

    const aside: { from: string; to: string }[] = [];
    const months = [...new Set(parts.filter((x) => x.kind === OK_KIND).map((x) => x.month))].sort();
    let loaded = 0;
    for (const month of months) {
      const files = parts.filter((x) => x.kind === OK_KIND && x.month === month).map((x) => x.file);
      const to = join(carrierPartitionDir(opts.dataDir, carrier.name, month), `${scan.sha256}.parquet`);
      if (files.length === 1) {
        // The common case: DuckDB's file is the lake file, no second pass.
        loaded += await countRows(db, files);
        aside.push({ from: files[0]!, to });
        continue;
      }
      const tmp = join(work, `ok-${month}.parquet`);
      loaded += await copyRows(db, files.map((f) => `SELECT * FROM ${fixed(f)}`).join(' UNION ALL '), tmp);
      aside.push({ from: tmp, to });
    }

    const skipped = await countRows(
      db,
      parts.filter((x) => x.kind === SKIP_KIND).map((x) => x.file),
    );
    // Rejects: failed validation (by month of their start when it could be read) and parse errors.
    const rejectParts = parts.filter((x) => x.kind !== OK_KIND && x.kind !== SKIP_KIND);
    const rejectMonths = [...new Set([...rejectParts.map((x) => x.month), ...(parseErrors.length ? [UNKNOWN_MONTH] : [])])].sort();
    if (parseErrors.length) {
      await db.run(`CREATE TEMP TABLE parse_rejects (line_number BIGINT, reason VARCHAR, raw VARCHAR)`);
      const extraOf = (line: number) => scan.multiLine.filter((m) => m.line < line).reduce((s, m) => s + m.extra, 0);
      for (const e of parseErrors) {
        const line = Number(e.line) + extraOf(Number(e.line));
        await db.run(`INSERT INTO parse_rejects VALUES ($1, $2, $3)`, [
          line,
          `the line does not split into the header's ${p.headers.length} columns (${e.error_type.toLowerCase()}: ${ownColumnCounts(e.error_message)})`,
          withoutLineNumber(e.raw.replace(/\r?\n$/, ''), line, p.delimiter),
        ]);
      }
    }
    let rejected = 0;
    const reasonText = (kind: string): string =>
      kind === 'other_month' && opts.month ? `start time is outside ${opts.month}` : (REJECT_REASONS[kind as RejectCode] ?? kind);
    for (const month of rejectMonths) {
      const selects = rejectParts
        .filter((x) => x.month === month)
        .map((x) => `SELECT line_number, ${sqlString(reasonText(x.kind))} AS reason, raw FROM ${fixed(x.file)}`);
      if (month === UNKNOWN_MONTH && parseErrors.length) selects.push(`SELECT line_number, reason, raw FROM parse_rejects`);
      const tmp = join(work, `rejects-${month}.parquet`);
      rejected += await copyRows(
        db,
        `SELECT ${sqlString(scan.sha256)} AS file_sha256, ${sqlString(p.fileName)} AS file_name, line_number, reason, raw,
                TIMESTAMPTZ ${sqlString(importedAt.toISOString())} AS imported_at
         FROM (${selects.join(' UNION ALL ')}) ORDER BY line_number`,
        tmp,
      );
      aside.push({ from: tmp, to: join(carrierRejectsPartitionDir(opts.dataDir, carrier.name, month), `${scan.sha256}.parquet`) });
    }
    const rejects = rejected
      ? (
          await db.all<{ line: string; reason: string }>(
            `SELECT line_number AS line, reason FROM read_parquet([${aside
              .filter((a) => a.to.startsWith(carrierRejectsDir(opts.dataDir)))
              .map((a) => sqlString(a.from))
              .join(', ')}]) ORDER BY line_number LIMIT ${REJECTS_SHOWN}`,
          )
        ).map((r) => ({ line: Number(r.line), reason: r.reason }))
      : [];

    const replaced = replacedBy(p.manifests, p.fileName, months, scan.sha256, opts.replaces);
    if (opts.signal?.aborted) throw opts.signal.reason;
    // Publish: the new files first, then the manifest that makes them "imported", then the
    // files they replace (a re-run finishes that last step if this one is killed before it).
    // Files are named by the source file's hash: a re-run after a killed import writes the same
    // rows again, so a plain replace is safe (a create would refuse the object the killed run left).
    for (const a of aside) {
      await mkdir(join(a.to, '..'), { recursive: true });
      await rename(a.from, `${a.to}.tmp`);
      await publishLakeFile(opts.dataDir, `${a.to}.tmp`, a.to, 'replace', opts.signal);
    }
    const manifest: ImportManifest = {
      carrier: carrier.name,
      sha256: scan.sha256,
      fileName: p.fileName,
      months,
      loaded,
      rejected,
      skipped,
      importedAt: importedAt.toISOString(),
      replaces: replaced.map((m) => m.sha256),
    };
    await writeManifest(opts.dataDir, manifest);
    for (const old of replaced) await removeImport(opts.dataDir, carrier.name, old.sha256);
    opts.logger.info({ carrier: carrier.name, file: opts.file, loaded, rejected, skipped, months }, 'carrier file imported');
    return {
      carrier: carrier.name,
      file: opts.file,
      sha256: scan.sha256,
      months,
      loaded,
      rejected,
      skipped,
      rejects,
      unchanged: false,
      ...(replaced.length ? { replaced: replaced.map((m) => `${m.fileName} (${m.sha256.slice(0, 12)})`).join(', ') } : {}),
    };
  } finally {
    db.close();
    await removeQuietly(work);
  }
}

/** A line as DuckDB read it from the numbered copy, without the number written in front of it. */
function withoutLineNumber(raw: string, line: number, delimiter: string): string {
  const prefix = `${line}${delimiter}`;
  return raw.startsWith(prefix) ? raw.slice(prefix.length) : raw;
}

/** DuckDB's message about a line of the numbered copy, with the counts of the file's own columns (the line number is one more). */
function ownColumnCounts(message: string): string {
  return message.replace(
    /Expected Number of Columns: (\d+) Found: (\d+)/,
    (_, e: string, f: string) => `Expected Number of Columns: ${Number(e) - 1} Found: ${Number(f) - 1}`,
  );
}

interface SplitPart {
  kind: string;
  month: string;
  file: string;
}

/** The files DuckDB wrote under split/kind=<k>/month=<m>/. */
async function splitParts(split: string): Promise<SplitPart[]> {
  const out: SplitPart[] = [];
  let kinds: string[];
  try {
    kinds = await readdir(split);
  } catch {
    return out;
  }
  for (const k of kinds.filter((n) => n.startsWith('kind='))) {
    for (const m of await readdir(join(split, k))) {
      if (!m.startsWith('month=')) continue;
      for (const f of await readdir(join(split, k, m))) {
        if (f.endsWith('.parquet')) {
          out.push({ kind: decodeURIComponent(k.slice(5)), month: decodeURIComponent(m.slice(6)), file: join(split, k, m, f) });
        }
      }
    }
  }
  return out.sort((a, b) => a.file.localeCompare(b.file));
}

async function copyRows(db: Db, select: string, to: string): Promise<number> {
  await db.run(`COPY (${select}) TO ${sqlString(to)} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)`);
  return countRows(db, [to]);
}

async function countRows(db: Db, files: string[]): Promise<number> {
  if (files.length === 0) return 0;
  const row = await db.one<{ n: string }>(`SELECT count(*) AS n FROM read_parquet([${files.map(sqlString).join(', ')}])`);
  return Number(row?.n ?? 0);
}

/** The reasons a line can be rejected for (codes and texts), for the docs and tests. */
export const CARRIER_REJECT_REASONS: Readonly<Record<RejectCode, string>> = REJECT_REASONS;
