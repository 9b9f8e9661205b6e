import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isPlainRecord, spoolFileName } from '../lake/plain-record.ts';
import type { CdrPage } from '../source/types.ts';

/**
 * Page bodies on their way to the lake: one file per page, named by a run-wide sequence number
 * (the lake writer keeps the copy with the highest number when an id appears twice). Lives in
 * the data directory so the writer's temp files and the lake share one filesystem.
 */
export class PageSpool {
  private seq = 0;

  private constructor(readonly dir: string) {}

  static async create(dir: string): Promise<PageSpool> {
    await mkdir(dir, { recursive: true });
    return new PageSpool(dir);
  }

  /**
   * Writes what the lake should load from a page: the body exactly as received when every
   * element is a valid record of the window (the common case), otherwise the window's valid
   * records re-serialised (rejects go to lake/rejects; records of other windows are fetched by
   * those windows). The name says whether every record is plain (the lake writer then types
   * them with its cheaper SQL). Returns undefined when the page holds nothing to load.
   */
  async writePage(page: CdrPage): Promise<string | undefined> {
    if (page.records.length === 0) return undefined;
    const path = join(this.dir, spoolFileName(++this.seq, page.records.every(isPlainRecord)));
    await writeFile(path, page.rejects.length === 0 && page.outOfWindow === 0 ? page.body : JSON.stringify(page.records));
    return path;
  }

  async remove(files: readonly string[]): Promise<void> {
    await Promise.all(files.map((f) => rm(f, { force: true })));
  }
}
