import type { IngestSettings } from '../config/index.ts';
import type { SourceStats, TimeWindow } from '../source/index.ts';
import { UsageError } from '../util/errors.ts';
import type { Month } from '../util/month.ts';
import type { IngestSummary } from './ingest-summary.ts';
import type { DomainState, PartitionState, WindowTask } from './ingest-state.ts';
import { cutWindows, incrementalRange, windowMonth } from './windows.ts';

/** Planning of an ingest run: pure functions, no I/O. */

/** The range a run reads, after the settle time is applied. */
export interface IngestRange {
  backfill: boolean;
  /** Nothing later than this is read or passed by a watermark: calls there have not settled yet. */
  settledEnd: Date;
  /** Backfill start (absent for an incremental run). */
  from?: Date;
  /** Backfill end, clamped to `settledEnd` (absent for an incremental run). */
  to?: Date;
  /** The end asked for, when it lay past `settledEnd` and `to` was clamped to that. */
  clampedFrom?: Date;
}

/**
 * Checks the concurrency asked for.
 * @throws UsageError when it is not a whole number >= 1.
 */
export function checkConcurrency(concurrency: number): number {
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new UsageError(`concurrency must be a whole number >= 1, got ${concurrency}`);
  return concurrency;
}

/**
 * The range of a run: a backfill [from, to) clamped to now minus the settle time, or an
 * incremental run (neither end given; each domain reads from its own watermark).
 * @throws UsageError when the ends are incomplete, reversed, or start where nothing has settled.
 */
export function planRange(a: { from?: Date; to?: Date; now: Date; settleMinutes: number }): IngestRange {
  const backfill = a.from !== undefined || a.to !== undefined;
  const settledEnd = new Date(a.now.getTime() - a.settleMinutes * 60_000);
  const from = a.from;
  const requestedTo = a.to ?? (a.from ? settledEnd : undefined);
  if (backfill && (!from || !requestedTo))
    throw new UsageError('--to needs --from: give both ends of the backfill range, or neither for an incremental run');
  if (from && requestedTo && !(from < requestedTo))
    throw new UsageError(`--from ${from.toISOString()} must be before --to ${requestedTo.toISOString()}`);
  if (from && !(from < settledEnd)) {
    throw new UsageError(
      `--from ${from.toISOString()} is not before now minus the settle time (${settledEnd.toISOString()}, ingest.settleMinutes = ${a.settleMinutes}): nothing there has settled yet; give an earlier --from`,
    );
  }
  const to = requestedTo && requestedTo > settledEnd ? settledEnd : requestedTo;
  return {
    backfill,
    settledEnd,
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    ...(requestedTo && to && to < requestedTo ? { clampedFrom: requestedTo } : {}),
  };
}

/** A summary with nothing counted yet. */
export function emptySummary(runId: string, range: IngestRange, prune: boolean): IngestSummary {
  return {
    runId,
    mode: range.backfill ? 'backfill' : 'incremental',
    ...(range.from && range.to ? { range: { from: range.from.toISOString(), to: range.to.toISOString() } } : {}),
    ...(range.clampedFrom ? { clampedFrom: range.clampedFrom.toISOString() } : {}),
    prune,
    domains: 0,
    windows: 0,
    windowsEmpty: 0,
    windowsSplit: 0,
    refetches: 0,
    requests: 0,
    retries: 0,
    retriesByReason: {},
    rowsFetched: 0,
    rowsWritten: 0,
    rows: 0,
    rowsNotListed: 0,
    rowsRemoved: 0,
    removedFiles: [],
    partitionsWritten: 0,
    partitionsUnchanged: 0,
    rejects: 0,
    outOfWindow: 0,
    anomalies: [],
    failures: [],
    skippedDomains: [],
    interrupted: false,
    watermarks: {},
    elapsedMs: 0,
  };
}

/** One domain's share of a run: its state, its partitions and the windows to read, in order. */
export interface DomainPlan {
  dom: DomainState;
  partitions: PartitionState[];
  tasks: WindowTask[];
}

/**
 * Cuts a domain's range into windows (each inside one UTC month, so one partition) and groups
 * them by partition. A domain with nothing to read still gets its state (its watermark is
 * reported).
 */
export function planDomain(
  domain: string,
  watermark: Date | undefined,
  range: IngestRange,
  now: Date,
  settings: Pick<IngestSettings, 'lookbackHours' | 'settleMinutes' | 'initialBackfillDays' | 'maxWindowDays'>,
): DomainPlan {
  const read: TimeWindow | undefined = range.backfill ? { start: range.from!, end: range.to! } : incrementalRange(watermark, now, settings);
  const dom: DomainState = { domain, watermark, seed: !range.backfill && !watermark ? read?.start : undefined, flushed: [] };
  const partitions: PartitionState[] = [];
  const tasks: WindowTask[] = [];
  if (!read) return { dom, partitions, tasks };
  const byMonth = new Map<Month, PartitionState>();
  for (const window of cutWindows(read, settings.maxWindowDays)) {
    const month = windowMonth(window);
    let part = byMonth.get(month);
    if (!part) {
      part = { dom, month, end: window.end, flushedTo: window.start, done: new Map(), spooledRows: 0 };
      byMonth.set(month, part);
      partitions.push(part);
    }
    part.end = window.end;
    tasks.push({ part, window });
  }
  return { dom, partitions, tasks };
}

/** Requests and retries a run made: the source's counters now minus when the run began. */
export function requestsSince(before: SourceStats, after: SourceStats): Pick<IngestSummary, 'requests' | 'retries' | 'retriesByReason'> {
  const retriesByReason: Record<string, number> = {};
  for (const [k, v] of Object.entries(after.retriesByReason)) {
    const d = v - (before.retriesByReason[k] ?? 0);
    if (d > 0) retriesByReason[k] = d;
  }
  return { requests: after.requests - before.requests, retries: after.retries - before.retries, retriesByReason };
}
