/**
 * What the lake holds, file by file, without reading a byte of data: every Parquet file under
 * lake/cdrs with its partition (UTC month, domain segment) and a stamp (size, modification time
 * in nanoseconds, inode). The lake writer replaces a partition file by writing it aside and renaming
 * it into place, so any change to a partition changes its stamp; the incremental transform
 * compares stamps with those the last build recorded.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { cdrsDir, decodePartitionValue } from '../lake/index.ts';

export interface LakeFileStamp {
  /** Path under lake/cdrs, with `/` separators (the data directory may move). */
  file: string;
  /** Absolute path, for reading. */
  path: string;
  /** The partition's UTC month, YYYY-MM. */
  utcMonth: string;
  /** The partition's `domain=` segment as on disk (percent-encoded or a short name). */
  domainSegment: string;
  /** size:mtime-ns:inode */
  stamp: string;
}

/** A lake file outside the month=/domain= layout: the transform cannot tell which domain-months it feeds. */
export interface StrayLakeFile {
  file: string;
}

/**
 * Directory reads and stat calls made synchronously between two turns of the event loop. A
 * synchronous call costs a few microseconds of CPU; its asynchronous form a thread-pool round
 * trip, several times that: listing a lake of a thousand partitions cost a live alert pass about
 * 100 ms of CPU that way. Yielding every few hundred calls keeps a large lake from holding the
 * event loop.
 */
const SYNC_CALLS_PER_TURN = 256;

/** Counts synchronous file-system calls and yields to the event loop every SYNC_CALLS_PER_TURN of them. */
function turnTaker(): () => Promise<void> {
  let calls = 0;
  return async () => {
    if (++calls % SYNC_CALLS_PER_TURN === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  };
}

async function walk(dir: string, out: string[], turn: () => Promise<void>): Promise<void> {
  await turn();
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, out, turn);
    else if (e.isFile() && e.name.endsWith('.parquet')) out.push(p);
  }
}

/** Every Parquet file of lake/cdrs with its stamp, sorted by path; files outside the layout are listed apart. */
export async function lakeFileStamps(dataDir: string): Promise<{ files: LakeFileStamp[]; stray: StrayLakeFile[] }> {
  const root = cdrsDir(dataDir);
  const paths: string[] = [];
  const turn = turnTaker();
  if (existsSync(root)) await walk(root, paths, turn);
  paths.sort();
  const stray: StrayLakeFile[] = [];
  const laidOut: { file: string; path: string; utcMonth: string; domainSegment: string }[] = [];
  for (const path of paths) {
    const file = relative(root, path).split(sep).join('/');
    const m = /^month=(\d{4}-\d{2})\/domain=([^/]+)\/[^/]+$/.exec(file);
    if (m) laidOut.push({ file, path, utcMonth: m[1]!, domainSegment: m[2]! });
    else stray.push({ file });
  }
  const files: LakeFileStamp[] = [];
  for (const f of laidOut) {
    await turn();
    const st = statSync(f.path, { bigint: true });
    files.push({ ...f, stamp: `${st.size}:${st.mtimeNs}:${st.ino}` });
  }
  return { files, stray };
}

/**
 * The domains of the lake's CDRs, read off the partition paths (no file opened), or undefined when a
 * path cannot tell: a short name or a compacted partition (the full names are stored in the files),
 * or a file outside the layout. Every partition file holds rows of its domain only.
 */
export function lakeDomainsFromPaths(stamps: { files: readonly LakeFileStamp[]; stray: readonly StrayLakeFile[] }): string[] | undefined {
  if (stamps.stray.length > 0) return undefined;
  const out = new Set<string>();
  for (const f of stamps.files) {
    const d = decodePartitionValue(f.domainSegment);
    if (d === undefined) return undefined;
    out.add(d);
  }
  return [...out].sort();
}
