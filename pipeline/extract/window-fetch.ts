import type { LimitFunction } from 'p-limit';
import type { CdrPage, CdrSource, RejectedRecord, TimeWindow } from '../source/index.ts';
import { nextWave, promisedPages } from './windows.ts';
import { idHashesOf } from './id-hashes.ts';
import type { PageSpool } from './spool.ts';

/** What fetching one counted window produced. */
export interface WindowFetch {
  /** Spooled page files, ready for the lake writer. */
  files: string[];
  /** Distinct valid CDR ids in the window (what the lake will hold for it). */
  distinctIds: number;
  /** Valid records whose id came earlier in the window: the list answered them, the lake keeps one copy. */
  repeats: number;
  rejects: RejectedRecord[];
  /** Valid records the server sent that belong to a neighbouring window. */
  outOfWindow: number;
  pages: number;
  /** One hash per distinct valid id (the runner checks them against the other windows it merges with). */
  idHashes: Float64Array;
  /** Ids that came more than once within this window (the lake writer de-duplicates only these). */
  duplicateIds: string[];
}

export interface WindowFetchArgs {
  source: CdrSource;
  domain: string;
  window: TimeWindow;
  /** The window's count: how far the waves of pages may grow (never trusted beyond that). */
  total: number;
  /** Most pages one window requests at once (bounds what an inflated count can cost). */
  maxWave?: number;
  pageSize: number;
  /** The run's global limit on requests in flight. */
  limit: LimitFunction;
  spool: PageSpool;
  signal?: AbortSignal;
}

/** Most pages of one window in flight at once, whatever its count says. */
export const DEFAULT_MAX_WAVE = 16;

/**
 * Fetches every page of a window in waves: the first page alone, then waves twice as large
 * while every page comes back full, up to the pages the count promises, then page after page
 * for as long as the last one comes back full (counts move while we read). The first short page
 * ends the window, so what is requested follows what the list returns, not the count.
 */
export async function fetchWindow(a: WindowFetchArgs): Promise<WindowFetch> {
  const ids = new Set<string>();
  const dups = new Set<string>();
  const out: WindowFetch = {
    files: [],
    distinctIds: 0,
    repeats: 0,
    rejects: [],
    outOfWindow: 0,
    pages: 0,
    idHashes: new Float64Array(0),
    duplicateIds: [],
  };
  // Takes what the window needs from a page and starts its spool write; nothing holds the page after (spool.ts writePage).
  const takePage = (page: CdrPage): { written: Promise<string | undefined>; full: boolean } => {
    out.pages++;
    for (const cdr of page.cdrs) {
      if (ids.has(cdr.id)) {
        dups.add(cdr.id);
        out.repeats++;
      } else ids.add(cdr.id);
    }
    out.rejects.push(...page.rejects);
    out.outOfWindow += page.outOfWindow ?? 0;
    return { written: a.spool.writePage(page), full: page.received >= a.pageSize };
  };
  const fetchOne = async (offset: number): Promise<boolean> => {
    const { written, full } = takePage(
      await a.limit(() => a.source.fetchCdrPage(a.domain, a.window, offset, a.pageSize, { signal: a.signal })),
    );
    const file = await written;
    if (file) out.files.push(file);
    return full;
  };
  const promised = promisedPages(a.total, a.pageSize);
  const maxWave = a.maxWave ?? DEFAULT_MAX_WAVE;
  try {
    let pagesDone = 0;
    let wave = 0;
    for (;;) {
      wave = nextWave(pagesDone, wave, promised, maxWave);
      const offsets = Array.from({ length: wave }, (_, i) => (pagesDone + i) * a.pageSize);
      // allSettled: on a failure no page is still writing spool files when they are removed.
      const settled = await Promise.allSettled(offsets.map(fetchOne));
      const failed = settled.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      pagesDone += wave;
      if (!settled.every((r) => r.status === 'fulfilled' && r.value)) break;
    }
  } catch (err) {
    await a.spool.remove(out.files);
    throw err;
  }
  out.distinctIds = ids.size;
  out.duplicateIds = [...dups];
  // The id strings are dropped with this window's Set: only 8 bytes per id wait for the merge.
  out.idHashes = idHashesOf(ids, ids.size);
  return out;
}
