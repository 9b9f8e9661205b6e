/**
 * The simulator's data: generated domains and days (lazy, LRU-cached), records injected by
 * tests, and the queries the endpoints and the ground truth share, so `/cdrs`, `/cdrs/count`
 * and `groundTruth` can never disagree about what is visible.
 *
 * Visibility: a generated record appears once its call has ended by the injected clock (plus a
 * delay when the late-arrival fault picks it); its corrected version (update fault) replaces it
 * a further delay later. Injected records are visible at once unless given `visibleAt`.
 */
import { generateDomainDay, updatedVersion, utcDayOf } from './cdr-gen.ts';
import { entryJson, type CdrEntry } from './cdr-entry.ts';
import type { DomainProfile } from './domain-gen.ts';
import { WeightedLru } from './lru.ts';
import { DAY_MS, zonedWallTimeToUtc } from '../util/zone-time.ts';
import { clip, compareEntries, pageOfDays, type CdrTotals, type StartRange, type Visibility } from './cdr-query.ts';
import { toEntry } from './injected-cdr.ts';

export type { CdrTotals, DataFaults, StartRange, Visibility } from './cdr-query.ts';
export { directionFilter } from './cdr-query.ts';
export { renderEntries } from './render-entries.ts';
export { toEntry } from './injected-cdr.ts';

export interface CdrStoreOptions {
  seed: number;
  volume: number;
  /** Generated calls start in [dataFromMs, dataToMs); dataToMs may be Infinity (follow the clock). */
  dataFromMs: number;
  dataToMs: number;
  /** Records kept in the day cache; default 200 000. */
  maxCachedRecords?: number;
}

interface DomainState {
  profile: DomainProfile;
  /** Injected records by UTC day, each list ordered by start then id. */
  manual: Map<number, CdrEntry[]>;
  manualDay: Map<string, number>;
  /** Generated ids removed or replaced by an injected version. */
  removed: Set<string>;
}

export class CdrStore {
  private readonly states = new Map<string, DomainState>();
  private readonly cache: WeightedLru<string, CdrEntry[]>;
  private readonly updated = new WeakMap<CdrEntry, CdrEntry>();
  generatedRecords = 0;
  /** Bumped by every change of domains or records (cached cross-domain views compare it). */
  version = 0;
  /** Times a record was held back (late arrival) or served in its corrected version (update). */
  readonly dataFaultHits = { late: 0, update: 0 };

  constructor(private readonly opts: CdrStoreOptions) {
    this.cache = new WeightedLru(opts.maxCachedRecords ?? 200_000, (v) => v.length);
  }

  addDomain(profile: DomainProfile): void {
    if (this.states.has(profile.domain))
      throw new Error(`domain ${JSON.stringify(profile.domain)} already exists in the simulator; pick another name`);
    this.states.set(profile.domain, { profile, manual: new Map(), manualDay: new Map(), removed: new Set() });
    this.version++;
  }

  profiles(): DomainProfile[] {
    return [...this.states.values()].map((s) => s.profile);
  }

  profile(domain: string): DomainProfile | undefined {
    return this.states.get(domain)?.profile;
  }

  private state(domain: string): DomainState {
    const s = this.states.get(domain);
    if (!s) throw new Error(`unknown simulator domain ${JSON.stringify(domain)}; add it with addDomain() first`);
    return s;
  }

  /** The generated records of a domain's UTC day (cached), clipped to the data range. */
  generatedDay(profile: DomainProfile, day: number): CdrEntry[] {
    const key = profile.domain + '\u0000' + day;
    let batch = this.cache.get(key);
    if (!batch) {
      batch = generateDomainDay(profile, day, { seed: this.opts.seed, volume: this.opts.volume });
      this.generatedRecords += batch.length;
      const { dataFromMs, dataToMs } = this.opts;
      if (day * DAY_MS < dataFromMs || (day + 1) * DAY_MS > dataToMs)
        batch = batch.filter((e) => e.startMs >= dataFromMs && e.startMs < dataToMs);
      this.cache.set(key, batch);
    }
    return batch;
  }

  // ---- injected records -------------------------------------------------------------------

  /** Adds (or replaces by id) exact records. Datetimes may use any accepted form. */
  addCdrs(domain: string, records: readonly Record<string, unknown>[], opts: { visibleAt?: Date } = {}): void {
    const s = this.state(domain);
    for (const r of records) this.putManual(s, toEntry(r, opts.visibleAt?.getTime()));
    this.version++;
  }

  /** Replaces all of a domain's records (generated ones included) with exactly these. */
  setCdrs(domain: string, records: readonly Record<string, unknown>[]): void {
    const s = this.state(domain);
    s.profile.generated = false;
    s.manual.clear();
    s.manualDay.clear();
    s.removed.clear();
    this.addCdrs(domain, records);
  }

  /** Merges `patch` into record `id`; returns false when there is no such record. */
  updateCdr(domain: string, id: string, patch: Record<string, unknown>): boolean {
    const s = this.state(domain);
    const found = this.findEntry(s, id);
    if (!found) return false;
    this.version++;
    const merged = { ...(JSON.parse(entryJson(found)) as Record<string, unknown>), ...patch, id };
    this.removeEntry(s, found);
    this.putManual(s, toEntry(merged, found.visibleAtMs));
    return true;
  }

  /** Deletes record `id`; returns false when there is no such record. */
  removeCdr(domain: string, id: string): boolean {
    const s = this.state(domain);
    const found = this.findEntry(s, id);
    if (!found) return false;
    this.version++;
    this.removeEntry(s, found);
    return true;
  }

  private findEntry(s: DomainState, id: string): CdrEntry | undefined {
    const mday = s.manualDay.get(id);
    if (mday !== undefined) return s.manual.get(mday)?.find((e) => e.id === id);
    if (!s.profile.generated || s.removed.has(id)) return undefined;
    const m = /^(\d{4})(\d{2})(\d{2})\d{6}$/.exec(id);
    if (!m) return undefined;
    const day = utcDayOf(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    return this.generatedDay(s.profile, day).find((e) => e.id === id);
  }

  private removeEntry(s: DomainState, e: CdrEntry): void {
    if (e.generated) {
      s.removed.add(e.id);
      return;
    }
    const day = s.manualDay.get(e.id);
    if (day === undefined) return;
    const list = s.manual.get(day) ?? [];
    const next = list.filter((x) => x.id !== e.id);
    if (next.length > 0) s.manual.set(day, next);
    else s.manual.delete(day);
    s.manualDay.delete(e.id);
  }

  private putManual(s: DomainState, e: CdrEntry): void {
    const existing = s.manualDay.get(e.id);
    if (existing !== undefined) this.removeEntry(s, { ...e, generated: false });
    const day = utcDayOf(e.startMs);
    const list = s.manual.get(day) ?? [];
    list.push(e);
    list.sort(compareEntries);
    s.manual.set(day, list);
    s.manualDay.set(e.id, day);
  }

  // ---- queries ----------------------------------------------------------------------------

  /** The version of an entry visible at `vis.nowMs`, or undefined when it is not visible yet. */
  private resolve(e: CdrEntry, vis: Visibility): CdrEntry | undefined {
    if (!e.generated) return e.visibleAtMs === undefined || e.visibleAtMs <= vis.nowMs ? e : undefined;
    let visibleAt = e.endMs;
    if (vis.late && e.lateU < vis.late.share) {
      visibleAt += vis.late.delayMs;
      if (visibleAt > vis.nowMs && e.endMs <= vis.nowMs) this.dataFaultHits.late++;
    }
    if (visibleAt > vis.nowMs) return undefined;
    if (vis.updates && e.updateU < vis.updates.share && visibleAt + vis.updates.delayMs <= vis.nowMs) {
      this.dataFaultHits.update++;
      let v2 = this.updated.get(e);
      if (!v2) {
        v2 = updatedVersion(e);
        this.updated.set(e, v2);
      }
      return v2;
    }
    return e;
  }

  /** Every visible record of one UTC day, in order, in its currently visible version. */
  private dayView(s: DomainState, day: number, vis: Visibility, directions: readonly number[] | undefined): CdrEntry[] {
    const manual = s.manual.get(day);
    let gen: CdrEntry[] = s.profile.generated && day * DAY_MS <= vis.nowMs ? this.generatedDay(s.profile, day) : [];
    const lastEnd = gen.length > 0 ? gen[gen.length - 1]!.startMs + 14_500_000 : 0;
    const updating = vis.updates !== undefined && vis.updates.share > 0;
    const slack = vis.late && vis.late.share > 0 ? vis.late.delayMs : 0;
    // The common case (an old, untouched day) needs no per-record work at all.
    const simple = !manual && s.removed.size === 0 && !directions && !updating && lastEnd + slack < vis.nowMs;
    if (simple) return gen;
    const out: CdrEntry[] = [];
    if (s.removed.size > 0) gen = gen.filter((e) => !s.removed.has(e.id));
    for (const e of gen) {
      const v = this.resolve(e, vis);
      if (v && (!directions || directions.includes(v.direction))) out.push(v);
    }
    if (manual) {
      for (const e of manual) {
        const v = this.resolve(e, vis);
        if (v && (!directions || directions.includes(v.direction))) out.push(v);
      }
      out.sort(compareEntries);
    }
    return out;
  }

  /** The UTC days that may hold records of `s` starting in `range`. */
  private days(s: DomainState, range: StartRange, vis: Visibility): number[] {
    const set = new Set<number>();
    const lo = Number.isFinite(range.fromMs) ? utcDayOf(range.fromMs) : -Infinity;
    const hi = Number.isFinite(range.toMs) ? utcDayOf(range.toMs) : Infinity;
    for (const d of s.manual.keys()) if (d >= lo && d <= hi) set.add(d);
    if (s.profile.generated) {
      const gLo = Math.max(lo, utcDayOf(this.opts.dataFromMs));
      const gHi = Math.min(hi, utcDayOf(Math.min(vis.nowMs, this.opts.dataToMs - 1)));
      for (let d = gLo; d <= gHi; d++) set.add(d);
    }
    return [...set].sort((a, b) => a - b);
  }

  /** Visible entries with start in `range`, in API order, skipping `offset` and returning at most `limit`. */
  select(domain: string, range: StartRange, vis: Visibility, offset: number, limit: number, directions?: readonly number[]): CdrEntry[] {
    const s = this.state(domain);
    const views = function* (store: CdrStore) {
      for (const day of store.days(s, range, vis)) yield store.dayView(s, day, vis, directions);
    };
    return pageOfDays(views(this), range, offset, limit);
  }

  /** `/cdrs/count` over the same records `select` pages through. */
  totals(domain: string, range: StartRange, vis: Visibility, directions?: readonly number[]): CdrTotals {
    const s = this.state(domain);
    let total = 0;
    let seconds = 0;
    for (const day of this.days(s, range, vis)) {
      const view = this.dayView(s, day, vis, directions);
      const [a, b] = clip(view, range);
      total += b - a;
      for (let i = a; i < b; i++) seconds += view[i]!.seconds;
    }
    return { total, seconds, minutes: Math.ceil(seconds / 60) };
  }

  /** Parsed records (canonical `Z` datetimes) with start in the half-open [fromMs, toMs). */
  records(domain: string, fromMs: number, toMs: number, vis: Visibility): Record<string, unknown>[] {
    return this.select(domain, { fromMs, toMs, endInclusive: false }, vis, 0, Number.MAX_SAFE_INTEGER).map(
      (e) => JSON.parse(entryJson(e)) as Record<string, unknown>,
    );
  }

  /** Totals for a calendar month in `timeZone` (default UTC), half-open on local midnight. */
  monthTotals(
    domain: string,
    month: string,
    vis: Visibility,
    timeZone = 'UTC',
  ): CdrTotals & { byDirection: Record<'outbound' | 'inbound' | 'missed' | 'internal', number> } {
    const m = /^(\d{4})-(\d{2})$/.exec(month);
    if (!m) throw new Error(`bad month ${JSON.stringify(month)}: expected YYYY-MM`);
    const y = Number(m[1]);
    const mo = Number(m[2]);
    const fromMs = zonedWallTimeToUtc(timeZone, y, mo, 1);
    const toMs = mo === 12 ? zonedWallTimeToUtc(timeZone, y + 1, 1, 1) : zonedWallTimeToUtc(timeZone, y, mo + 1, 1);
    const entries = this.select(domain, { fromMs, toMs, endInclusive: false }, vis, 0, Number.MAX_SAFE_INTEGER);
    const byDirection = { outbound: 0, inbound: 0, missed: 0, internal: 0 };
    const names = ['outbound', 'inbound', 'missed', 'internal'] as const;
    let seconds = 0;
    for (const e of entries) {
      seconds += e.seconds;
      const name = names[e.direction];
      if (name) byDirection[name]++;
    }
    return { total: entries.length, seconds, minutes: Math.ceil(seconds / 60), byDirection };
  }

  cacheStats(): { days: number; records: number } {
    return { days: this.cache.size, records: this.cache.weight };
  }
}
