/**
 * What the lake holds, file by file, without reading a byte of data: every Parquet file under
 * lake/cdrs with its partition (UTC month, domain segment) and a stamp (size, modification time
 * in nanoseconds, inode). The lake writer replaces a partition file by writing it aside and renaming
 * it into place, so any change to a partition changes its stamp; the incremental transform
 * compares stamps with those the last build recorded.
 */
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
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

/** stat calls in flight at once while stamping the lake. */
const STAT_CONCURRENCY = 32;

async function walk(dir: string, out: string[]): Promise<void> {
  const subdirs: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) subdirs.push(p);
    else if (e.isFile() && e.name.endsWith('.parquet')) out.push(p);
  }
  // A month's domain folders side by side (the caller sorts the paths).
  await Promise.all(subdirs.map((d) => walk(d, out)));
}

/** Every Parquet file of lake/cdrs with its stamp, sorted by path; files outside the layout are listed apart. */
export async function lakeFileStamps(dataDir: string): Promise<{ files: LakeFileStamp[]; stray: StrayLakeFile[] }> {
  const root = cdrsDir(dataDir);
  const paths: string[] = [];
  if (existsSync(root)) await walk(root, paths);
  paths.sort();
  const stray: StrayLakeFile[] = [];
  const laidOut: { file: string; path: string; utcMonth: string; domainSegment: string }[] = [];
  for (const path of paths) {
    const file = relative(root, path).split(sep).join('/');
    const m = /^month=(\d{4}-\d{2})\/domain=([^/]+)\/[^/]+$/.exec(file);
    if (m) laidOut.push({ file, path, utcMonth: m[1]!, domainSegment: m[2]! });
    else stray.push({ file });
  }
  // stat(2) side by side, a bounded number at a time: one by one, a lake of thousands of files
  // waits a thread-pool round trip per file.
  const files: LakeFileStamp[] = new Array(laidOut.length);
  let next = 0;
  const worker = async () => {
    while (next < laidOut.length) {
      const i = next++;
      const f = laidOut[i]!;
      const s = await stat(f.path, { bigint: true });
      files[i] = { ...f, stamp: `${s.size}:${s.mtimeNs}:${s.ino}` };
    }
  };
  await Promise.all(Array.from({ length: Math.min(STAT_CONCURRENCY, laidOut.length) }, worker));
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
