/**
 * The reseller-wide `/cdrs` and `/cdrs/count`: every domain's records of a query in one list,
 * ordered by start, then id, then domain (ids are unique per domain only), with the same
 * visibility, direction filter and answer faults as each domain's own endpoints.
 */
import type { CdrEntry } from './cdr-entry.ts';
import { utcDayOf } from './cdr-gen.ts';
import { clip, pageOfDays } from './cdr-query.ts';
import type { CdrStore, CdrTotals, StartRange, Visibility } from './cdr-store.ts';
import { WeightedLru } from './lru.ts';
import { DAY_MS } from '../util/zone-time.ts';

/** How the answer faults bend one domain's share of a query (`FaultEngine.listKeep`/`countTotal`). */
export interface DomainAnswerFaults {
  listKeep(domain: string): number | undefined;
  countTotal(domain: string): number | undefined;
}

interface MergedView {
  key: string;
  entries: CdrEntry[];
}

/** Every domain's visible records of one UTC day, in reseller-wide order, with running seconds. */
interface MergedDay {
  entries: CdrEntry[];
  /** secondsBefore[i]: the seconds of entries[0..i). */
  secondsBefore: Float64Array;
}

/** Views kept: the pages of a window ask for the same view again and again. */
const KEEP_VIEWS = 4;
/** Records referenced by the merged days kept (references only: the records live in the store). */
const KEEP_DAY_RECORDS = 4_000_000;
/** Widest query read by merged days (wider ones, such as a lone bound's whole history, merge their own view). */
const MAX_MERGED_DAYS = 400;

function compareMerged(a: CdrEntry, b: CdrEntry, da: string, db: string): number {
  return a.startMs - b.startMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : da < db ? -1 : da > db ? 1 : 0);
}

/**
 * Cross-domain queries over a CdrStore. A query with both bounds reads merged days: each UTC
 * day's records of every domain, merged into API order once (per visibility, direction filter and
 * store version) and kept, so a count is a binary search per day and a page a slice, however
 * many domains there are. A list bent by the `listKeep` answer fault (each domain's share cut
 * after N records of the query) and an unbounded query build the merged view of the query
 * itself, kept for the pages that follow.
 */
export class ResellerView {
  private views: MergedView[] = [];
  private readonly days = new WeightedLru<string, MergedDay>(KEEP_DAY_RECORDS, (d) => d.entries.length);

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
    const names = this.domains();
    if (!bounded(range) || names.some((d) => faults.listKeep(d) !== undefined))
      return this.view(range, vis, directions, faults).slice(offset, offset + limit);
    const views = function* (view: ResellerView) {
      for (let day = utcDayOf(range.fromMs); day <= utcDayOf(range.toMs); day++) yield view.mergedDay(day, vis, directions, names).entries;
    };
    return pageOfDays(views(this), range, offset, limit);
  }

  /** The reseller-wide count: the sum of every domain's count of the same query (answer faults included). */
  totals(range: StartRange, vis: Visibility, directions: readonly number[] | undefined, faults: DomainAnswerFaults): CdrTotals {
    const names = this.domains();
    if (!bounded(range)) return this.totalsByDomain(names, range, vis, directions, faults);
    let total = 0;
    let seconds = 0;
    for (let day = utcDayOf(range.fromMs); day <= utcDayOf(range.toMs); day++) {
      const { entries, secondsBefore } = this.mergedDay(day, vis, directions, names);
      const [a, b] = clip(entries, range);
      total += b - a;
      seconds += secondsBefore[b]! - secondsBefore[a]!;
    }
    // A domain whose count is forced answers that instead of its share (its seconds stay true).
    for (const d of names) {
      const forced = faults.countTotal(d);
      if (forced !== undefined) total += forced - this.store.totals(d, range, vis, directions).total;
    }
    return { total, seconds, minutes: Math.ceil(seconds / 60) };
  }

  private totalsByDomain(
    names: readonly string[],
    range: StartRange,
    vis: Visibility,
    directions: readonly number[] | undefined,
    faults: DomainAnswerFaults,
  ): CdrTotals {
    let total = 0;
    let seconds = 0;
    for (const d of names) {
      const t = this.store.totals(d, range, vis, directions);
      total += faults.countTotal(d) ?? t.total;
      seconds += t.seconds;
    }
    return { total, seconds, minutes: Math.ceil(seconds / 60) };
  }

  private mergedDay(day: number, vis: Visibility, directions: readonly number[] | undefined, names: readonly string[]): MergedDay {
    const key = JSON.stringify([day, vis, directions ?? null, this.store.version, names.length]);
    const hit = this.days.get(key);
    if (hit) return hit;
    const dayRange: StartRange = { fromMs: day * DAY_MS, toMs: (day + 1) * DAY_MS, endInclusive: false };
    const merged = mergeTagged(
      names.map((d) => ({ d, entries: this.store.select(d, dayRange, vis, 0, Number.MAX_SAFE_INTEGER, directions) })),
    );
    const secondsBefore = new Float64Array(merged.length + 1);
    for (let i = 0; i < merged.length; i++) secondsBefore[i + 1] = secondsBefore[i]! + merged[i]!.seconds;
    const out = { entries: merged, secondsBefore };
    this.days.set(key, out);
    return out;
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
    const entries = mergeTagged(
      names.map((d, i) => ({ d, entries: this.store.select(d, range, vis, 0, keeps[i] ?? Number.MAX_SAFE_INTEGER, directions) })),
    );
    this.views = [{ key, entries }, ...this.views].slice(0, KEEP_VIEWS);
    return entries;
  }
}

/** Queries read by merged days: both bounds given, and not so wide that walking its days costs more than its domains. */
function bounded(range: StartRange): boolean {
  return Number.isFinite(range.fromMs) && Number.isFinite(range.toMs) && utcDayOf(range.toMs) - utcDayOf(range.fromMs) <= MAX_MERGED_DAYS;
}

/** Every domain's ordered records merged into API order (start, id, then domain). */
function mergeTagged(byDomain: readonly { d: string; entries: readonly CdrEntry[] }[]): CdrEntry[] {
  const tagged: { e: CdrEntry; d: string }[] = [];
  for (const { d, entries } of byDomain) for (const e of entries) tagged.push({ e, d });
  tagged.sort((a, b) => compareMerged(a.e, b.e, a.d, b.d));
  return tagged.map((t) => t.e);
}
