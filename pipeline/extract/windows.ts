// One module per function: the package's root index loads all of date-fns (~24 MiB and seconds of
// start-up in every cdrpipe process, each module compiled on load).
import { addDays } from 'date-fns/addDays';
import { addMilliseconds } from 'date-fns/addMilliseconds';
import { differenceInMilliseconds } from 'date-fns/differenceInMilliseconds';
import { tz } from '@date-fns/tz';
import type { TimeWindow } from '../source/index.ts';
import { utcMonthOf, type Month } from '../util/month.ts';

/**
 * Window planning: pure functions, no I/O. A window is half-open [start, end) on
 * call-start-datetime; every window lies inside one UTC month so it maps to one lake partition.
 */

const UTC = tz('UTC');
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** The knobs planning needs (a subset of the `ingest` settings in jobs.config.ts). */
export interface WindowSettings {
  /** A window whose count exceeds this is split in halves (down to the floor). */
  rowBudget: number;
  /** Never split a window narrower than twice this. */
  minWindowMinutes: number;
  /** Widest window, in days, used even when counting is unavailable. */
  maxWindowDays: number;
  /** Page size for `start`/`limit` paging (the API's maximum is 1000). */
  pageSize: number;
}

export function windowWidthMs(w: TimeWindow): number {
  return differenceInMilliseconds(w.end, w.start);
}

/** The UTC month (lake partition) a window belongs to. */
export function windowMonth(w: TimeWindow): Month {
  return utcMonthOf(w.start);
}

export function formatWindow(w: TimeWindow): string {
  return `[${w.start.toISOString()}, ${w.end.toISOString()})`;
}

/**
 * Cuts [from, to) at every UTC month boundary, then each month piece into windows no wider than
 * `maxWindowDays` (whole days: a fraction is dropped, as date-fns' addDays does). Empty or
 * inverted ranges give no windows.
 *
 * Plain UTC arithmetic (UTC has no DST, a day is always 86,400,000 ms): a run plans every domain
 * with this, and date-fns' zoned dates cost ~140 us per call, 0.7 s for 5,000 domains.
 */
export function cutWindows(range: TimeWindow, maxWindowDays: number): TimeWindow[] {
  const widthMs = Math.trunc(maxWindowDays) * DAY_MS;
  if (!(maxWindowDays > 0) || !(widthMs > 0)) throw new Error(`maxWindowDays must be positive, got ${maxWindowDays}`);
  const out: TimeWindow[] = [];
  const endMs = range.end.getTime();
  let cursor = range.start.getTime();
  while (cursor < endMs) {
    const month = new Date(cursor);
    const pieceEnd = Math.min(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1), endMs);
    let wStart = cursor;
    while (wStart < pieceEnd) {
      const wEnd = Math.min(wStart + widthMs, pieceEnd);
      out.push({ start: new Date(wStart), end: new Date(wEnd) });
      wStart = wEnd;
    }
    cursor = pieceEnd;
  }
  return out;
}

/**
 * Splits a window in two halves, the midpoint on a whole minute when the window is wide enough,
 * or returns undefined when a half would be narrower than the floor.
 */
export function halveWindow(w: TimeWindow, minWindowMinutes: number): [TimeWindow, TimeWindow] | undefined {
  const width = windowWidthMs(w);
  const floorMs = minWindowMinutes * MINUTE_MS;
  if (width < 2 * floorMs) return undefined;
  let half = Math.floor(width / 2);
  // Minute-aligned boundaries keep windows readable in logs and anomaly rows.
  if (half >= MINUTE_MS) {
    const mid = addMilliseconds(w.start, half);
    const aligned = Math.floor(mid.getTime() / MINUTE_MS) * MINUTE_MS;
    if (aligned - w.start.getTime() >= floorMs && w.end.getTime() - aligned >= floorMs) half = aligned - w.start.getTime();
  }
  const mid = addMilliseconds(w.start, half);
  return [
    { start: new Date(w.start.getTime()), end: mid },
    { start: mid, end: new Date(w.end.getTime()) },
  ];
}

/**
 * Pages a window's count promises: every page that should hold rows, plus the one that proves
 * the end (the last page must come back shorter than `pageSize`; when `total` is an exact
 * multiple, that is an empty page). A number, never a list: a count can be absurd (1e12).
 */
export function promisedPages(total: number, pageSize: number): number {
  if (!(pageSize > 0)) throw new Error(`pageSize must be positive, got ${pageSize}`);
  if (!(total > 0)) return 0;
  return Math.floor(total / pageSize) + 1;
}

/**
 * Sizes of the successive waves of pages to request for a window: one page first, then twice as
 * many each time the previous wave came back full, never more than `maxWave` at once. Requests
 * follow what the list returns (a short page ends the window), so an inflated count costs a page
 * or two instead of every page it promises; `promised` (from the count) only stops the doubling
 * where the count says the rows end, after which pages follow one at a time.
 */
export function nextWave(pagesDone: number, lastWave: number, promised: number, maxWave: number): number {
  if (pagesDone === 0) return 1;
  const left = promised - pagesDone;
  if (left <= 0) return 1;
  return Math.max(1, Math.min(lastWave * 2, left, maxWave));
}

/** What to do with a window once its count is known. */
export type WindowDecision = { kind: 'empty' } | { kind: 'split'; halves: [TimeWindow, TimeWindow] } | { kind: 'fetch' };

export function decideWindow(w: TimeWindow, total: number, s: WindowSettings): WindowDecision {
  if (total <= 0) return { kind: 'empty' };
  if (total > s.rowBudget) {
    const halves = halveWindow(w, s.minWindowMinutes);
    if (halves) return { kind: 'split', halves };
  }
  return { kind: 'fetch' };
}

/**
 * A count is plausible when it is a whole number the process can hold, and, for a window that
 * was split, when its halves do not add up to more than the window itself (a count that repeats
 * the same figure for every sub-window is inflated). Counts move a little between requests (late
 * CDRs), hence the slack.
 */
export function countsPlausible(total: number, halves?: readonly [number, number]): boolean {
  if (!Number.isSafeInteger(total) || total < 0) return false;
  if (!halves) return true;
  const [a, b] = halves;
  if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || a < 0 || b < 0) return false;
  return a + b <= total + Math.max(100, Math.ceil(total * 0.02));
}

/**
 * The incremental range of one domain: [watermark - lookback, now - settle), or from
 * now - initialBackfillDays for a domain never ingested. Undefined when there is nothing to read.
 */
export function incrementalRange(
  watermark: Date | undefined,
  now: Date,
  s: { lookbackHours: number; settleMinutes: number; initialBackfillDays: number },
): TimeWindow | undefined {
  const end = addMilliseconds(now, -s.settleMinutes * MINUTE_MS);
  const start = watermark ? addMilliseconds(watermark, -s.lookbackHours * 3_600_000) : addDays(now, -s.initialBackfillDays, { in: UTC });
  // date-fns hands back TZDate objects when given a zone; callers get plain Dates.
  return start < end ? { start: new Date(start.getTime()), end: new Date(end.getTime()) } : undefined;
}

/**
 * Where a watermark may move after some ranges of this run are durably in the lake: forward
 * through every flushed range that touches or overlaps it, never backward. A domain without a
 * watermark gets one only when `seed` says where the run started (incremental runs).
 */
export function advanceWatermark(current: Date | undefined, flushed: readonly TimeWindow[], seed?: Date): Date | undefined {
  let cursor = current ?? seed;
  if (!cursor) return current;
  const sorted = [...flushed].sort((a, b) => a.start.getTime() - b.start.getTime());
  for (const r of sorted) {
    if (r.start <= cursor && r.end > cursor) cursor = r.end;
  }
  if (current && cursor <= current) return current;
  return cursor === seed && !current ? undefined : cursor;
}

/**
 * The contiguous run of completed windows starting at `from`: the range that can be flushed now.
 * Windows must not overlap; returns undefined when the window at `from` is not complete yet.
 */
export function contiguousPrefix(from: Date, completed: readonly TimeWindow[]): TimeWindow | undefined {
  const byStart = new Map<number, TimeWindow>();
  for (const w of completed) byStart.set(w.start.getTime(), w);
  let end = from;
  for (let w = byStart.get(end.getTime()); w; w = byStart.get(end.getTime())) end = w.end;
  return end > from ? { start: from, end } : undefined;
}
