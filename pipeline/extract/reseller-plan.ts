import type { IngestSettings } from '../config/index.ts';
import type { TimeWindow } from '../source/index.ts';
import type { Month } from '../util/month.ts';
import type { DomainPlan } from './ingest-plan.ts';
import type { DomainState, PartitionState, WindowTask } from './ingest-state.ts';
import { cutWindows, incrementalRange, windowMonth } from './windows.ts';

/**
 * Planning of an incremental run that reads through the reseller-wide `/cdrs`: pure functions,
 * no I/O. One shared range is read for every domain at once; a domain whose own range starts
 * earlier (never ingested, or held back by an anomaly) reads that earlier part on its own.
 */

type PlanSettings = Pick<IngestSettings, 'lookbackHours' | 'settleMinutes' | 'initialBackfillDays' | 'maxWindowDays'>;

/**
 * Where the shared range starts: the incremental start most domains have (the latest of equally
 * common ones). Usually every domain shares it (their watermarks all moved to the same settled
 * end last time). Undefined when no domain has anything to read.
 */
export function sharedStart(starts: readonly (Date | undefined)[]): Date | undefined {
  const tally = new Map<number, number>();
  for (const s of starts) if (s) tally.set(s.getTime(), (tally.get(s.getTime()) ?? 0) + 1);
  let best: [number, number] | undefined;
  for (const [ms, n] of tally) if (!best || n > best[1] || (n === best[1] && ms > best[0])) best = [ms, n];
  return best ? new Date(best[0]) : undefined;
}

/** The shared range of a run: [sharedStart, now - settle), or undefined when nothing is to be read. */
export function sharedRange(watermarks: readonly (Date | undefined)[], now: Date, settings: PlanSettings): TimeWindow | undefined {
  const ranges = watermarks.map((w) => incrementalRange(w, now, settings));
  const start = sharedStart(ranges.map((r) => r?.start));
  const end = ranges.find((r) => r)?.end;
  return start && end && start < end ? { start, end } : undefined;
}

/** A domain's plan when `shared` is read reseller-wide: its own windows before it, and the partitions the shared windows complete. */
export interface SharedDomainPlan extends DomainPlan {
  /** The domain's partition of each month the shared range touches. */
  sharedParts: Map<Month, PartitionState>;
  /** True when the domain reads part of its range on its own (before the shared range). */
  ownPrefix: boolean;
}

/**
 * Plans one domain of a reseller-wide run. Its range is [its incremental start, end) widened to
 * start no later than `shared.start` (reading a little more than the lookback costs nothing
 * here: the rows come with the shared pages anyway). Windows before `shared.start` are the
 * domain's own tasks; the shared windows are not tasks: the reseller-wide reader completes them
 * in every domain's partitions.
 */
export function planSharedDomain(
  domain: string,
  watermark: Date | undefined,
  now: Date,
  settings: PlanSettings,
  shared: TimeWindow,
): SharedDomainPlan {
  const own = incrementalRange(watermark, now, settings);
  const dom: DomainState = { domain, watermark, seed: !watermark ? own?.start : undefined, flushed: [] };
  const prefix = own && own.start < shared.start ? cutWindows({ start: own.start, end: shared.start }, settings.maxWindowDays) : [];
  const partitions: PartitionState[] = [];
  const byMonth = new Map<Month, PartitionState>();
  const sharedParts = new Map<Month, PartitionState>();
  const tasks: WindowTask[] = [];
  const partOf = (window: TimeWindow): PartitionState => {
    const month = windowMonth(window);
    let part = byMonth.get(month);
    if (!part) {
      part = { dom, month, end: window.end, flushedTo: window.start, done: new Map(), spooledRows: 0 };
      byMonth.set(month, part);
      partitions.push(part);
    }
    part.end = window.end;
    return part;
  };
  for (const window of prefix) tasks.push({ part: partOf(window), window });
  for (const window of cutWindows(shared, settings.maxWindowDays)) sharedParts.set(windowMonth(window), partOf(window));
  return { dom, partitions, tasks, sharedParts, ownPrefix: prefix.length > 0 };
}
