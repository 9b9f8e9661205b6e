/**
 * The reseller-wide `/cdrs` and `/cdrs/count`: every domain's records of a query in one list,
 * ordered by start, then id, then domain (ids are unique per domain only), with the same
 * visibility, direction filter and answer faults as each domain's own endpoints.
 */
import type { CdrEntry } from './cdr-entry.ts';
import type { CdrStore, CdrTotals, StartRange, Visibility } from './cdr-store.ts';

/** How the answer faults bend one domain's share of a query (`FaultEngine.listKeep`/`countTotal`). */
export interface DomainAnswerFaults {
  listKeep(domain: string): number | undefined;
  countTotal(domain: string): number | undefined;
}

interface MergedView {
  key: string;
  entries: CdrEntry[];
}

/** Views kept: the pages of a window ask for the same view again and again. */
const KEEP_VIEWS = 4;

function compareMerged(a: CdrEntry, b: CdrEntry, da: string, db: string): number {
  return a.startMs - b.startMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : da < db ? -1 : da > db ? 1 : 0);
}

/**
 * Cross-domain queries over a CdrStore. A listing builds the merged, ordered view of its query
 * once and keeps it (keyed by the query, the clock, the faults and the store's version), so
 * paging through a window costs one merge, not one per page.
 */
export class ResellerView {
  private views: MergedView[] = [];

  constructor(private readonly store: CdrStore) {}

  private domains(): string[] {
    return this.store.profiles().map((p) => p.domain);
  }

  /** A page of the reseller-wide list: `limit` records from `offset`, in API order. */
  select(
    range: StartRange,
    vis: Visibility,
    offset: number,
    limit: number,
    directions: readonly number[] | undefined,
    faults: DomainAnswerFaults,
  ): CdrEntry[] {
    return this.view(range, vis, directions, faults).slice(offset, offset + limit);
  }

  /** The reseller-wide count: the sum of every domain's count of the same query (answer faults included). */
  totals(range: StartRange, vis: Visibility, directions: readonly number[] | undefined, faults: DomainAnswerFaults): CdrTotals {
    let total = 0;
    let seconds = 0;
    for (const d of this.domains()) {
      const t = this.store.totals(d, range, vis, directions);
      total += faults.countTotal(d) ?? t.total;
      seconds += t.seconds;
    }
    return { total, seconds, minutes: Math.ceil(seconds / 60) };
  }

  private view(range: StartRange, vis: Visibility, directions: readonly number[] | undefined, faults: DomainAnswerFaults): CdrEntry[] {
    const names = this.domains();
    const keeps = names.map((d) => faults.listKeep(d));
    const key = JSON.stringify([
      range,
      vis,
      directions ?? null,
      this.store.version,
      names.length,
      keeps.some((k) => k !== undefined) ? keeps : null,
    ]);
    const hit = this.views.find((v) => v.key === key);
    if (hit) return hit.entries;
    const tagged: { e: CdrEntry; d: string }[] = [];
    names.forEach((d, i) => {
      for (const e of this.store.select(d, range, vis, 0, keeps[i] ?? Number.MAX_SAFE_INTEGER, directions)) tagged.push({ e, d });
    });
    tagged.sort((a, b) => compareMerged(a.e, b.e, a.d, b.d));
    const entries = tagged.map((t) => t.e);
    this.views = [{ key, entries }, ...this.views].slice(0, KEEP_VIEWS);
    return entries;
  }
}
