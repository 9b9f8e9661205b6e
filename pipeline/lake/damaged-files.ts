/**
 * Lake files that can no longer be read (cut short by a full disk, an interrupted copy, a bad
 * sector) are moved aside to lake/quarantine/ and the CDRs they held are fetched again: the
 * domain's watermark goes back to the start of the file's UTC month, so the next incremental
 * ingest re-fetches them, and the message names the backfill that rebuilds the partition now.
 * Every reader of the lake (transform, reconcile) and the lake writer check before they read,
 * so one damaged file stops one run with a precise message instead of every run.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { sqlString, withDb, type Db } from '../db/duckdb.ts';
import { withState, readWatermarks, rewindWatermarkRow } from '../state/index.ts';
import { CdrpipeError } from '../util/errors.ts';
import { addMonths, isMonth, type Month } from '../util/month.ts';
import { cdrsDir, lakeDir, quarantineDir } from './layout.ts';
import { parquetFrameFault } from './parquet-check.ts';
import { decodePartitionValue, encodePartitionValue } from './partition-path.ts';

/** One damaged file, after it was moved aside. */
export interface DamagedFile {
  /** Where the file was. */
  file: string;
  /** Where it is now; `<movedTo>.reason.json` beside it says why. */
  movedTo: string;
  reason: string;
  month: Month | undefined;
  /** Undefined only for a short partition name no known domain encodes to. */
  domain: string | undefined;
  /** The domain's watermark after the rewind, at or before the month start (undefined: the domain has none). */
  watermark: Date | undefined;
  /** The command that rebuilds the partition. */
  rebuild: string | undefined;
}

/** Damaged lake files were found and moved aside: exit 1, the message says what to run. */
export class DamagedLakeError extends CdrpipeError {
  override readonly name = 'DamagedLakeError';
  constructor(readonly files: readonly DamagedFile[]) {
    super(files.map(describeDamagedFile).join('\n'));
  }
}

/** The operator-facing sentence for one damaged file. */
export function describeDamagedFile(d: DamagedFile): string {
  const what = d.domain !== undefined && d.month ? `its CDRs of ${d.domain} for UTC month ${d.month}` : 'its CDRs';
  const refetch = d.watermark
    ? `the domain's watermark now stands at ${d.watermark.toISOString()}, so the next incremental \`cdrpipe ingest\` fetches them again; `
    : '';
  const rebuild = d.rebuild
    ? `to rebuild the partition now, run: ${d.rebuild}`
    : 'ingest the month of that partition again for its domain (`cdrpipe ingest --from .. --to .. --domain ..`)';
  return `lake file ${d.file} is damaged (${d.reason}) and was moved to ${d.movedTo}; ${what} are not in the lake until they are ingested again: ${refetch}${rebuild}`;
}

/** `cdrpipe ingest` for one whole UTC month of one domain, quoted for a POSIX shell. */
export function rebuildCommand(domain: string, month: Month): string {
  const quoted = /^[A-Za-z0-9._-]+$/.test(domain) ? domain : `'${domain.replaceAll("'", `'\\''`)}'`;
  return `cdrpipe ingest --from ${month}-01 --to ${addMonths(month, 1)}-01 --domain ${quoted}`;
}

/** Every data file under `dir` (lake/cdrs or a month of it). */
export async function lakeFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...(await lakeFiles(join(dir, e.name))));
    else if (e.isFile() && e.name.endsWith('.parquet')) out.push(join(dir, e.name));
  }
  return out;
}

/**
 * Why a lake file cannot be read, or undefined. The frame check (first and last bytes) runs for
 * every file; with `db`, DuckDB also decodes the footer (slower: used once a read has failed).
 */
export async function lakeFileFault(file: string, db?: Db): Promise<string | undefined> {
  const frame = await parquetFrameFault(file);
  if (frame || !db) return frame;
  try {
    await db.all(`SELECT count(*) FROM parquet_metadata(${sqlString(file)})`);
    return undefined;
  } catch (err) {
    return `unreadable footer: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
  }
}

/**
 * Checks every file under lake/cdrs (or only `files`) and moves the damaged ones aside
 * ({@link setAsideDamagedFile}). Returns what it moved; an empty list means the lake is whole.
 */
export async function setAsideDamagedLakeFiles(
  dataDir: string,
  at: Date,
  opts: { db?: Db; files?: readonly string[] } = {},
): Promise<DamagedFile[]> {
  const out: DamagedFile[] = [];
  for (const file of opts.files ?? (await lakeFiles(cdrsDir(dataDir)))) {
    if (!existsSync(file)) continue;
    const reason = await lakeFileFault(file, opts.db);
    if (reason) out.push(await setAsideDamagedFile({ dataDir, file, reason, at }));
  }
  return out;
}

/**
 * What to throw after a read of the lake failed: a DamagedLakeError when a file (of `files`, or
 * of the whole lake) turns out damaged once DuckDB decodes its footer, which is then set aside;
 * otherwise the original error.
 */
export async function damagedLakeErrorOr(err: unknown, dataDir: string, at: Date, files?: readonly string[]): Promise<unknown> {
  if (err instanceof DamagedLakeError) return err;
  try {
    const damaged = await withDb(':memory:', (db) => setAsideDamagedLakeFiles(dataDir, at, { db, files }));
    return damaged.length > 0 ? new DamagedLakeError(damaged) : err;
  } catch {
    // The check itself failed (e.g. a read-only lake): the original error says more.
    return err;
  }
}

/**
 * Moves one damaged lake file to lake/quarantine/<time>/<its path under lake/>, writes the reason
 * beside it, and moves the domain's watermark back to the start of the file's UTC month.
 * `month` and `domain` default to what the partition path says.
 */
export async function setAsideDamagedFile(a: {
  dataDir: string;
  file: string;
  reason: string;
  at: Date;
  month?: Month;
  domain?: string;
}): Promise<DamagedFile> {
  const rel = relative(lakeDir(a.dataDir), a.file);
  const parts = rel.split(sep);
  const monthPart = parts.find((p) => p.startsWith('month='))?.slice('month='.length);
  const month = a.month ?? (monthPart && isMonth(monthPart) ? monthPart : undefined);
  const domainPart = parts.find((p) => p.startsWith('domain='))?.slice('domain='.length);
  let domain = a.domain ?? (domainPart !== undefined ? decodePartitionValue(domainPart) : undefined);

  const movedTo = join(quarantineDir(a.dataDir), a.at.toISOString().replace(/[:.]/g, '-'), rel);
  await mkdir(dirname(movedTo), { recursive: true });
  await rename(a.file, movedTo);

  let watermark: Date | undefined;
  await withState(a.dataDir, async (db) => {
    if (domain === undefined && domainPart !== undefined) {
      // A short partition name: find the domain among those ingest has seen.
      domain = [...(await readWatermarks(db)).keys()].find((d) => encodePartitionValue(d) === domainPart);
    }
    if (domain === undefined || !month) return;
    const start = new Date(`${month}-01T00:00:00Z`);
    await rewindWatermarkRow(db, domain, start, a.at);
    const wm = (await readWatermarks(db)).get(domain);
    watermark = wm && wm <= start ? wm : undefined;
  });
  const damaged: DamagedFile = {
    file: a.file,
    movedTo,
    reason: a.reason,
    month,
    domain,
    watermark,
    rebuild: domain !== undefined && month ? rebuildCommand(domain, month) : undefined,
  };
  await writeFile(
    `${movedTo}.reason.json`,
    JSON.stringify(
      { ...damaged, watermark: watermark?.toISOString() ?? null, detected_at: a.at.toISOString(), message: describeDamagedFile(damaged) },
      null,
      2,
    ) + '\n',
  );
  return damaged;
}
