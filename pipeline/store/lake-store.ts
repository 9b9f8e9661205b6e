/**
 * The lake in a bucket, and its local copy. With CDRPIPE_LAKE_URL set, the data directory's
 * lake/ holds copies of the bucket's objects under the same relative paths, so every reader and
 * the lake writer keep working on local Parquet files; this module keeps those copies honest:
 *
 * - Each copy has a sidecar `.<name>.etag` with the object's ETag and the copy's size and mtime.
 *   A copy counts only while all three match (the bucket's listing, and the file on disk), so a
 *   half-finished command, another process or a hand edit can never make a stale copy look current.
 * - `pull` brings the objects a command needs up to date (one listing per prefix, downloads for
 *   what changed, removal of copies whose object is gone) and trims the copy to its size bound.
 * - `refresh` / `publish` / `drop` are the writer's steps for one object: read the current version,
 *   then write the new one with If-Match on the ETag it read (If-None-Match: * for a new object),
 *   and only then replace the local copy. A write that loses to another writer fails with
 *   StoreConflictError and changes nothing; a killed upload leaves the previous object.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import pLimit from 'p-limit';
import { removeQuietly } from '../util/atomic-file.ts';
import { ConfigError } from '../util/errors.ts';
import type { Logger } from '../util/logger.ts';
import type { LakeBucket, ObjectInfo, WriteCondition } from './bucket.ts';
import { md5ETagOf } from './etag.ts';
import { StoreError } from './store-errors.ts';

/** What a command reads: the whole lake, the cdrs of some months (plus domains and rejects), or some lake-relative prefixes. */
export interface LakeScope {
  months?: readonly string[];
  /** Prefixes ending in "/" (e.g. "carrier_imports/carrier=x/"); with `months`, read as well as theirs. */
  prefixes?: readonly string[];
}

/** What a pull did, for a log line. */
export interface PullStats {
  objects: number;
  downloaded: number;
  bytesDownloaded: number;
  removed: number;
  evicted: number;
}

/** How a publish is conditioned: `merge` on the version last read, `create` only if absent, `replace` always. */
export type PublishMode = 'merge' | 'create' | 'replace';

/** Keys under this prefix are the product's own (the scheduler lease), never part of the lake. */
export const CONTROL_PREFIX = '_cdrpipe/';
/** The file in lake/ that says which bucket the copies come from. */
const BINDING_FILE = '.bucket';
const PARALLEL_DOWNLOADS = 8;

/**
 * The bucket URL whose local copy `lakeDir` is, or undefined for a lake of its own. A copy is
 * not a lake (it may be partial, trimmed to its size bound), so a process without
 * CDRPIPE_LAKE_URL must refuse it rather than read or write it as one.
 */
export async function lakeCopyBinding(lakeDir: string): Promise<string | undefined> {
  const text = await readFile(join(lakeDir, BINDING_FILE), 'utf8').catch(() => undefined);
  return text?.trim() || undefined;
}

interface Sidecar {
  etag: string;
  size: number;
  mtimeMs: number;
}

const sidecarOf = (file: string) => join(dirname(file), `.${basename(file)}.etag`);
// Parquet files, and the carrier imports' JSON manifests.
const isLakeFile = (name: string) => (name.endsWith('.parquet') || name.endsWith('.json')) && !name.startsWith('.');

export interface LakeStoreOptions {
  logger?: Logger;
}

export class LakeStore {
  private checked: Promise<void> | undefined;
  private bound: Promise<void> | undefined;
  /** Requests made by this process (PUTs and downloads), for summaries and tests. */
  readonly counts = { uploads: 0, downloads: 0, skippedUploads: 0 };

  constructor(
    readonly bucket: LakeBucket,
    /** The data directory; its lake/ is the local copy. */
    readonly dataDir: string,
    private readonly opts: LakeStoreOptions = {},
  ) {}

  /** s3://bucket/prefix/ */
  get url(): string {
    return this.bucket.location.url;
  }

  /** The local copy's root: the data directory's lake/ (the same path lake/layout.ts names). */
  get root(): string {
    return join(this.dataDir, 'lake');
  }

  /** Fails once, early, with exit 2 on wrong credentials, a missing bucket or an unreachable endpoint. */
  ready(signal?: AbortSignal): Promise<void> {
    this.checked ??= this.bucket.check(signal).catch((err: unknown) => {
      this.checked = undefined;
      throw err;
    });
    return this.checked;
  }

  /** The lake-relative key of a file under lake/ ("cdrs/month=…/domain=…/data.parquet"). */
  relOf(file: string): string {
    const rel = relative(this.root, file);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new Error(`${file} is not inside the lake ${this.root}`);
    return rel.split(sep).join('/');
  }

  localPathOf(rel: string): string {
    return join(this.root, ...rel.split('/'));
  }

  /**
   * lake/ must be this bucket's copy. A lake/ with Parquet files and no binding is a local lake
   * (the data directory was used without CDRPIPE_LAKE_URL): refused, never overwritten or pruned.
   * A copy of another bucket is discarded (it is only a copy).
   */
  private bind(): Promise<void> {
    this.bound ??= (async () => {
      const file = join(this.root, BINDING_FILE);
      const text = await readFile(file, 'utf8').catch(() => undefined);
      if (text?.trim() === this.url) return;
      if (text === undefined && (await hasLakeFiles(this.root))) {
        throw new ConfigError(
          `${this.root} holds a local lake, and CDRPIPE_LAKE_URL=${this.url} would make it a copy of the bucket. ` +
            `Copy it into the bucket first (e.g. aws s3 sync ${this.root} ${this.url}), then move it away, or use another CDRPIPE_DATA_DIR.`,
          'CDRPIPE_LAKE_URL',
        );
      }
      if (text !== undefined) {
        this.opts.logger?.warn({ was: text.trim(), now: this.url }, 'the local lake copy was of another bucket: discarding it');
        for (const name of await readdir(this.root)) if (name !== 'quarantine') await removeQuietly(join(this.root, name));
      }
      await mkdir(this.root, { recursive: true });
      await writeFile(file, this.url + '\n');
    })().catch((err: unknown) => {
      this.bound = undefined;
      throw err;
    });
    return this.bound;
  }

  /**
   * Brings the copy of `scope` up to date with the bucket, then trims the copy to `maxBytes`
   * (least recently used first, never a file of this scope).
   */
  async pull(scope: LakeScope, opts: { maxBytes?: number; signal?: AbortSignal } = {}): Promise<PullStats> {
    await this.ready(opts.signal);
    await this.bind();
    const prefixes = [
      ...(scope.months ? [...scope.months.map((m) => `cdrs/month=${m}/`), 'domains/', 'rejects/'] : []),
      ...(scope.prefixes ?? []),
    ];
    if (!scope.months && !scope.prefixes) prefixes.push('');
    const objects = (await Promise.all(prefixes.map((p) => this.bucket.list(p, opts.signal))))
      .flat()
      .filter((o) => !o.rel.startsWith(CONTROL_PREFIX) && !o.rel.endsWith('/'));
    const stats: PullStats = { objects: objects.length, downloaded: 0, bytesDownloaded: 0, removed: 0, evicted: 0 };
    const limit = pLimit(PARALLEL_DOWNLOADS);
    await Promise.all(
      objects.map((o) =>
        limit(async () => {
          if (await this.ensureCopy(o, opts.signal)) {
            stats.downloaded++;
            stats.bytesDownloaded += o.size;
          }
        }),
      ),
    );
    const listed = new Set(objects.map((o) => o.rel));
    for (const p of prefixes) {
      for (const file of await walkLakeFiles(this.localPathOf(p.replace(/\/$/, '')))) {
        const rel = this.relOf(file);
        if (rel.startsWith('quarantine/') || listed.has(rel)) continue;
        await this.forget(file);
        stats.removed++;
      }
    }
    if (opts.maxBytes !== undefined) stats.evicted = await this.trim(opts.maxBytes, listed);
    if (stats.downloaded + stats.removed + stats.evicted > 0) this.opts.logger?.info({ lake: this.url, ...stats }, 'lake copy refreshed');
    return stats;
  }

  /** Makes the writer's copy of one object current (downloads it, or removes the copy when the object is gone). */
  async refresh(file: string, signal?: AbortSignal): Promise<void> {
    await this.ready(signal);
    await this.bind();
    const rel = this.relOf(file);
    const o = await this.bucket.head(rel, signal);
    if (!o) {
      if (existsSync(file) || existsSync(sidecarOf(file))) await this.forget(file);
      return;
    }
    await this.ensureCopy(o, signal);
  }

  /**
   * Publishes a finished temp file as the object for `file`, then renames it over the local copy.
   * `merge` writes only over the version the last refresh/pull saw (If-Match), or only where there
   * was none (If-None-Match: *). Identical bytes are not uploaded again.
   */
  async publish(tmp: string, file: string, mode: PublishMode, signal?: AbortSignal): Promise<void> {
    await this.ready(signal);
    await this.bind();
    const rel = this.relOf(file);
    const seen = mode === 'merge' ? await readSidecar(file) : undefined;
    const condition: WriteCondition = mode === 'replace' ? 'none' : seen ? { ifMatch: seen.etag } : { ifNoneMatch: '*' };
    let etag: string;
    const seenMd5 = seen && md5ETagOf(seen.etag);
    if (seenMd5 && seenMd5 === (await md5Hex(tmp))) {
      etag = seen.etag;
      this.counts.skippedUploads++;
    } else {
      etag = await this.bucket.upload(tmp, rel, condition, signal);
      this.counts.uploads++;
    }
    await mkdir(dirname(file), { recursive: true });
    await rename(tmp, file);
    await writeSidecar(file, etag);
  }

  /** Deletes the object for `file` and the local copy. */
  async drop(file: string, signal?: AbortSignal): Promise<void> {
    await this.ready(signal);
    const seen = await readSidecar(file);
    await this.bucket.remove(this.relOf(file), seen?.etag, signal);
    await this.forget(file);
  }

  /** Objects and bytes under a lake-relative prefix, from the bucket's listing (status). */
  async size(relPrefix: string, signal?: AbortSignal): Promise<{ files: number; bytes: number }> {
    await this.ready(signal);
    const objects = (await this.bucket.list(relPrefix, signal)).filter((o) => o.rel.endsWith('.parquet'));
    return { files: objects.length, bytes: objects.reduce((a, o) => a + o.size, 0) };
  }

  /** Closes the bucket's connections. */
  close(): void {
    this.bucket.close();
  }

  /** True when a download was needed. */
  private async ensureCopy(o: ObjectInfo, signal?: AbortSignal): Promise<boolean> {
    const file = this.localPathOf(o.rel);
    const side = await readSidecar(file);
    const st = await stat(file).catch(() => undefined);
    if (side && st && side.etag === o.etag && st.size === side.size && st.mtimeMs === side.mtimeMs) {
      // Used now: the size bound evicts the least recently used copies first.
      const now = new Date();
      await utimes(sidecarOf(file), now, now).catch(() => undefined);
      return false;
    }
    const got = await this.bucket.download(o.rel, file, signal);
    this.counts.downloads++;
    if (!got) {
      await this.forget(file);
      return false;
    }
    await writeSidecar(file, got.etag);
    return true;
  }

  private async forget(file: string): Promise<void> {
    await rm(file, { force: true });
    await rm(sidecarOf(file), { force: true });
  }

  /** Removes least recently used copies outside `keep` until the copy is at most `maxBytes`; returns how many. */
  private async trim(maxBytes: number, keep: ReadonlySet<string>): Promise<number> {
    const files = await walkLakeFiles(this.root);
    const entries = await Promise.all(
      files.map(async (f) => ({
        f,
        size: (await stat(f).catch(() => undefined))?.size ?? 0,
        used: (await stat(sidecarOf(f)).catch(() => undefined))?.mtimeMs ?? 0,
      })),
    );
    let total = entries.reduce((a, e) => a + e.size, 0);
    if (total <= maxBytes) return 0;
    let evicted = 0;
    for (const e of entries.sort((a, b) => a.used - b.used)) {
      if (total <= maxBytes) break;
      const rel = this.relOf(e.f);
      if (keep.has(rel) || rel.startsWith('quarantine/')) continue;
      await this.forget(e.f);
      total -= e.size;
      evicted++;
    }
    if (total > maxBytes) {
      this.opts.logger?.warn(
        { bytes: total, maxBytes },
        'the lake copy this command needs is larger than storage.cacheMaxMiB: kept whole for this command; raise the bound',
      );
    }
    return evicted;
  }
}

async function readSidecar(file: string): Promise<Sidecar | undefined> {
  try {
    const s = JSON.parse(await readFile(sidecarOf(file), 'utf8')) as Partial<Sidecar>;
    if (typeof s.etag === 'string' && typeof s.size === 'number' && typeof s.mtimeMs === 'number') return s as Sidecar;
  } catch {
    // Missing or unreadable: the copy is simply not trusted.
  }
  return undefined;
}

/** Records the object's ETag against the local copy as it is now (size and mtime). */
async function writeSidecar(file: string, etag: string): Promise<void> {
  const st = await stat(file);
  const side = sidecarOf(file);
  const tmp = `${side}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify({ etag, size: st.size, mtimeMs: st.mtimeMs } satisfies Sidecar));
  await rename(tmp, side);
}

async function md5Hex(file: string): Promise<string> {
  return createHash('md5')
    .update(await readFile(file))
    .digest('hex');
}

/** Every lake file (*.parquet, not hidden) under `dir`; none when it does not exist. */
async function walkLakeFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walkLakeFiles(p)));
    else if (e.isFile() && isLakeFile(e.name)) out.push(p);
  }
  return out;
}

async function hasLakeFiles(dir: string): Promise<boolean> {
  return (await walkLakeFiles(dir)).some((f) => !f.includes(`${sep}quarantine${sep}`));
}

export { StoreError };
