import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isPlainRecord, byteSpansByParsing, encodeRecords, encodeValues, recordBoundaries, spoolFileName } from '../lake/index.ts';
import type { CdrPage } from '../source/index.ts';
import type { HeapGarbage } from '../util/heap-garbage.ts';

const RS = Buffer.from([0x1e]);

/**
 * Fetched records on their way to the lake: one file per page (lake/spool-format.ts), named by a
 * run-wide sequence number (the lake writer keeps the copy with the highest number when an id
 * appears twice). Lives in the data directory so the writer's temp files and the lake share one
 * filesystem.
 */
export class PageSpool {
  private seq = 0;

  private constructor(
    readonly dir: string,
    private readonly garbage: HeapGarbage | undefined,
  ) {}

  /** `garbage`: told the size of every body spooled (a body and its parse are garbage once their file is written). */
  static async create(dir: string, opts: { garbage?: HeapGarbage } = {}): Promise<PageSpool> {
    await mkdir(dir, { recursive: true });
    return new PageSpool(dir, opts.garbage);
  }

  /**
   * Writes the page's valid in-window records to a spool file (lake/spool-format.ts), each byte
   * for byte as the server sent it. Only a body with an element that is not an object is
   * re-serialised. Rejects go to lake/rejects; records of other windows are fetched by those
   * windows. Returns undefined when nothing is left to load.
   *
   * Everything the file needs is taken from the page before the first await, so the page's
   * parsed records (about 50 small objects per CDR) are garbage while the file is written. Held
   * across the writes, with other pages parsed meanwhile, they outlived young-generation
   * collections and were copied into the old generation, which only full collections reclaim.
   */
  writePage(page: CdrPage): Promise<string | undefined> {
    // Not async: an async function's parameters stay reachable until it settles.
    try {
      if (page.records.length === 0) return Promise.resolve(undefined);
      const path = join(this.dir, spoolFileName(++this.seq, page.records.every(isPlainRecord)));
      if (page.bytes && page.spans) {
        // Straight from the bytes as received: one write of the records' slices, nothing copied or encoded.
        this.garbage?.add(page.bytes.length);
        return writeSlices(path, recordSlices(page.bytes, page.spans, page.recordIndexes));
      }
      const bytes = encodePage(page);
      this.garbage?.add(page.body.length + bytes.length);
      return writeFile(path, bytes).then(() => path);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /**
   * Writes records already cut out of their bodies (each its bytes as sent) to one spool file,
   * RS between them; `plain` when every record is (lake/plain-record.ts).
   */
  async writeRecords(records: readonly Buffer[], plain: boolean): Promise<string | undefined> {
    if (records.length === 0) return undefined;
    const path = join(this.dir, spoolFileName(++this.seq, plain));
    const parts: Buffer[] = [];
    for (const r of records) {
      if (parts.length > 0) parts.push(RS);
      parts.push(r);
    }
    const bytes = Buffer.concat(parts);
    this.garbage?.add(bytes.length * 2);
    await writeFile(path, bytes);
    return path;
  }

  async remove(files: readonly string[]): Promise<void> {
    await Promise.all(files.map((f) => rm(f, { force: true })));
  }
}

/** Writes `slices` to a new file at `path` in one call; resolves to `path`. */
async function writeSlices(path: string, slices: Buffer[]): Promise<string> {
  const handle = await open(path, 'w');
  try {
    const { bytesWritten } = await handle.writev(slices);
    const size = slices.reduce((n, b) => n + b.length, 0);
    if (bytesWritten !== size) throw new Error(`spool file ${path}: wrote ${bytesWritten} of ${size} bytes`);
  } finally {
    await handle.close();
  }
  return path;
}

/** The spool file of the elements `keep` of a body cut at `spans`, as slices of `bytes` with RS between them. */
export function recordSlices(bytes: Buffer, spans: readonly number[], keep: readonly number[]): Buffer[] {
  const parts: Buffer[] = [];
  for (const i of keep) {
    if (parts.length > 0) parts.push(RS);
    parts.push(bytes.subarray(spans[2 * i], spans[2 * i + 1]));
  }
  return parts;
}

/** A page's spool file contents: its valid in-window records, each its own bytes from the body, RS between. */
export function encodePage(page: CdrPage): Buffer {
  const bytes = Buffer.from(page.body, 'utf8');
  const spans = page.elementsAreObjects ? (recordBoundaries(bytes, page.received) ?? byteSpansByParsing(page.body)) : undefined;
  return spans ? encodeRecords(bytes, spans, page.recordIndexes) : encodeValues(page.records);
}
