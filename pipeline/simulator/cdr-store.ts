/**
 * The simulator's data: generated domains and days (lazy, LRU-cached), records injected by
 * tests, and the queries the endpoints and the ground truth share, so `/cdrs`, `/cdrs/count`
 * and `groundTruth` can never disagree about what is visible.
 *
 * Visibility: a generated record appears once its call has ended by the injected clock (plus a
 * delay when the late-arrival fault picks it); its corrected version (update fault) replaces it
 * a further delay later. Injected records are visible at once unless given `visibleAt`.
 */
import { entryJson, generateDomainDay, updatedVersion, utcDayOf, withJson, type CdrEntry } from './cdr-gen.ts';
import type { DomainProfile } from './domain-gen.ts';
import { WeightedLru } from './lru.ts';
import { formatCanonical, parseApiDatetime, rewriteBodyDatetimes, type DatetimeFormat } from './datetime-format.ts';
import { DAY_MS, zonedWallTimeToUtc } from '../util/zone-time.ts';

/** Late arrival and later correction of records: the two data faults. */
export interface DataFaults {
  /** Share (0..1) of generated records that appear only `delayMs` after the call ended. */
  late?: { share: number; delayMs: number };
  /** Share (0..1) of generated records replaced by a corrected version `delayMs` after they first appeared. */
  updates?: { share: number; delayMs: number };
}

/** What "visible" is measured against. */
export interface Visibility extends DataFaults {
  nowMs: number;
}

/** A range of call-start-datetime in epoch ms; `endInclusive` selects the server's `<=` end. */
export interface StartRange {
  fromMs: number;
  toMs: number;
  endInclusive: boolean;
}

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

/** Totals as `/cdrs/count` reports them. */
export interface CdrTotals {
  total: number;
  seconds: number;
  /** ceil(seconds / 60) of the summed seconds. */
  minutes: number;
}

const DIRECTION_FILTERS: Record<string, readonly number[]> = {
  outbound: [0],
  '0': [0],
  inbound: [1],
  '1': [1],
  missed: [2],
  '2': [2],
  'on-net': [3],
  '3': [3],
  'off-net': [0, 1, 2],
  received: [1, 2],
};

/** The `type` query values the simulator understands (case-insensitive), mapped to call-direction codes. */
export function directionFilter(type: string | undefined): readonly number[] | undefined | null {
  if (type === undefined || type === '') return undefined;
  return DIRECTION_FILTERS[type.toLowerCase()] ?? null;
}

export class CdrStore {
  private readonly states = new Map<string, DomainState>();
  private readonly cache: WeightedLru<string, CdrEntry[]>;
  private readonly updated = new WeakMap<CdrEntry, CdrEntry>();
  generatedRecords = 0;
  /** Times a record was held back (late arrival) or served in its corrected version (update). */
  readonly dataFaultHits = { late: 0, update: 0 };

  constructor(private readonly opts: CdrStoreOptions) {
    this.cache = new WeightedLru(opts.maxCachedRecords ?? 200_000, (v) => v.length);
  }

  addDomain(profile: DomainProfile): void {
    if (this.states.has(profile.domain))
      throw new Error(`domain ${JSON.stringify(profile.domain)} already exists in the simulator; pick another name`);
    this.states.set(profile.domain, { profile, manual: new Map(), manualDay: new Map(), removed: new Set() });
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
    const out: CdrEntry[] = [];
    let skip = offset;
    for (const day of this.days(s, range, vis)) {
      if (out.length >= limit) break;
      const view = this.dayView(s, day, vis, directions);
      const [a, b] = clip(view, range);
      const n = b - a;
      if (skip >= n) {
        skip -= n;
        continue;
      }
      const from = a + skip;
      skip = 0;
      const to = Math.min(b, from + (limit - out.length));
      for (let i = from; i < to; i++) out.push(view[i]!);
    }
    return out;
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

/** `[first, end)` indexes of `view` (ordered by start) whose start lies in `range`. */
function clip(view: readonly CdrEntry[], range: StartRange): [number, number] {
  const a = lowerBound(view, range.fromMs);
  const b = range.endInclusive ? lowerBound(view, range.toMs + 1) : lowerBound(view, range.toMs);
  return [a, Math.max(a, b)];
}

function lowerBound(view: readonly CdrEntry[], ms: number): number {
  let lo = 0;
  let hi = view.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (view[mid]!.startMs < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function compareEntries(a: CdrEntry, b: CdrEntry): number {
  return a.startMs - b.startMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

const OPEN = Buffer.from('[');
const CLOSE = Buffer.from(']');
const COMMA = Buffer.from(',');

/**
 * Serializes a page as the API sends it (UTF-8 JSON array), datetimes in the response's form.
 * Runs of records stored next to each other are copied as one slice.
 */
export function renderEntries(entries: readonly CdrEntry[], format: DatetimeFormat): Buffer {
  const parts: Buffer[] = [OPEN];
  let total = 2;
  let i = 0;
  while (i < entries.length) {
    const first = entries[i]!;
    const buf = first.buf;
    let end = first.off + first.len;
    let j = i + 1;
    while (j < entries.length && entries[j]!.buf === buf && entries[j]!.off === end + 1) {
      end = entries[j]!.off + entries[j]!.len;
      j++;
    }
    if (i > 0) {
      parts.push(COMMA);
      total++;
    }
    parts.push(buf.subarray(first.off, end));
    total += end - first.off;
    i = j;
  }
  parts.push(CLOSE);
  const body = Buffer.concat(parts, total);
  if (format.kind === 'utc-z') return body;
  return Buffer.from(rewriteBodyDatetimes(body.toString('utf8'), format), 'utf8');
}

/**
 * Turns an injected record into a stored entry: datetimes of any accepted form are normalized
 * to the canonical `Z` form, everything else is kept exactly as given.
 */
export function toEntry(record: Record<string, unknown>, visibleAtMs?: number): CdrEntry {
  const rec: Record<string, unknown> = { ...record };
  const idRaw = rec.id;
  if ((typeof idRaw !== 'string' && typeof idRaw !== 'number') || String(idRaw) === '') {
    throw new Error(`injected CDR needs a non-empty "id" (got ${JSON.stringify(idRaw)})`);
  }
  for (const [k, v] of Object.entries(rec)) {
    if (k.endsWith('datetime') && typeof v === 'string' && v !== '') {
      const p = parseApiDatetime(v);
      if (!p)
        throw new Error(
          `injected CDR ${String(idRaw)}: ${k} ${JSON.stringify(v)} is not a datetime the API accepts (e.g. 2026-11-27T13:00:00Z)`,
        );
      rec[k] = formatCanonical(p.epochMs);
    }
  }
  const start = rec['call-start-datetime'];
  if (typeof start !== 'string') throw new Error(`injected CDR ${String(idRaw)} needs "call-start-datetime"`);
  const startMs = Date.parse(start);
  const seconds = Number(rec['call-total-duration-seconds'] ?? 0) || 0;
  const end = rec['call-disconnect-datetime'];
  const endMs = typeof end === 'string' ? Date.parse(end) : startMs + seconds * 1000;
  const base: CdrEntry = {
    id: String(idRaw),
    startMs,
    endMs,
    seconds,
    direction: Number(rec['call-direction'] ?? -1),
    buf: Buffer.alloc(0),
    off: 0,
    len: 0,
    lateU: 1,
    updateU: 1,
    generated: false,
  };
  if (visibleAtMs !== undefined) base.visibleAtMs = visibleAtMs;
  return withJson(base, JSON.stringify(rec));
}
