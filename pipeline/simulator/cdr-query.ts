/**
 * What the store's queries are measured against, and the pure helpers they share: visibility,
 * start ranges, direction filters and ordered-slice lookups.
 */
import type { CdrEntry } from './cdr-entry.ts';

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

/** `[first, end)` indexes of `view` (ordered by start) whose start lies in `range`. */
export function clip(view: readonly CdrEntry[], range: StartRange): [number, number] {
  const a = lowerBound(view, range.fromMs);
  const b = range.endInclusive ? lowerBound(view, range.toMs + 1) : lowerBound(view, range.toMs);
  return [a, Math.max(a, b)];
}

/**
 * One page of day views read in order: each view clipped to `range`, `offset` entries skipped
 * across them, then at most `limit` taken. Views are produced lazily, so days past the page are
 * never built.
 */
export function pageOfDays(views: Iterable<readonly CdrEntry[]>, range: StartRange, offset: number, limit: number): CdrEntry[] {
  const out: CdrEntry[] = [];
  let skip = offset;
  for (const view of views) {
    if (out.length >= limit) break;
    const [a, b] = clip(view, range);
    if (skip >= b - a) {
      skip -= b - a;
      continue;
    }
    const from = a + skip;
    skip = 0;
    const to = Math.min(b, from + (limit - out.length));
    for (let i = from; i < to; i++) out.push(view[i]!);
  }
  return out;
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

/** API order: by start, then id. */
export function compareEntries(a: CdrEntry, b: CdrEntry): number {
  return a.startMs - b.startMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
