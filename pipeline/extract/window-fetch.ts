import type { LimitFunction } from 'p-limit';
import type { CdrSource, RejectedRecord, TimeWindow } from '../source/types.ts';
import { pageOffsets } from './windows.ts';
import { idHashesOf } from './id-hashes.ts';
import type { PageSpool } from './spool.ts';

/** What fetching one counted window produced. */
export interface WindowFetch {
  /** Spooled page files, ready for the lake writer. */
  files: string[];
  /** Distinct valid CDR ids in the window (what the lake will hold for it). */
  distinctIds: number;
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
  /** The window's count, which decides how many pages are requested at once. */
  total: number;
  pageSize: number;
  /** The run's global limit on requests in flight. */
  limit: LimitFunction;
  spool: PageSpool;
  signal?: AbortSignal;
}

/**
 * Fetches every page of a window: the pages the count promises concurrently, then page after
 * page for as long as the last one comes back full (counts move while we read).
 */
export async function fetchWindow(a: WindowFetchArgs): Promise<WindowFetch> {
  const ids = new Set<string>();
  const dups = new Set<string>();
  const out: WindowFetch = { files: [], distinctIds: 0, rejects: [], outOfWindow: 0, pages: 0, idHashes: new Float64Array(0), duplicateIds: [] };
  const fetchOne = async (offset: number): Promise<boolean> => {
    const page = await a.limit(() => a.source.fetchCdrPage(a.domain, a.window, offset, a.pageSize, { signal: a.signal }));
    out.pages++;
    for (const cdr of page.cdrs) {
      if (ids.has(cdr.id)) dups.add(cdr.id);
      else ids.add(cdr.id);
    }
    out.rejects.push(...page.rejects);
    out.outOfWindow += page.outOfWindow ?? 0;
    const file = await a.spool.writePage(page);
    if (file) out.files.push(file);
    return page.received >= a.pageSize;
  };
  try {
    const offsets = pageOffsets(a.total, a.pageSize);
    // allSettled: on a failure no page is still writing spool files when they are removed.
    const settled = await Promise.allSettled(offsets.map(fetchOne));
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const full = settled.map((r) => r.status === 'fulfilled' && r.value);
    if (full.length > 0 && full[full.length - 1]) {
      for (let offset = offsets[offsets.length - 1]! + a.pageSize; await fetchOne(offset); offset += a.pageSize) {
        // keep paging until a short page proves the end
      }
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
