import type { LakeWriter } from '../lake/index.ts';
import type { TimeWindow } from '../source/index.ts';
import { withState, advanceWatermarkRow } from '../state/index.ts';
import { duplicateIdsAcross } from './id-hashes.ts';
import type { IngestEvents } from './ingest-events.ts';
import type { DomainState, DoneWindow, PartitionState } from './ingest-state.ts';
import type { PageSpool } from './spool.ts';
import { advanceWatermark, contiguousPrefix, formatWindow } from './windows.ts';
import type { StageContext } from '../config/index.ts';

/** Merges handed to the writer and not finished beyond which fetching waits. */
const MAX_PENDING_FLUSHES = 4;

export interface PartitionMergeOptions extends Pick<StageContext, 'dataDir' | 'clock' | 'logger'> {
  writer: LakeWriter;
  spool: PageSpool;
  events: IngestEvents;
  /** Watermarks never pass this (now minus the settle time). */
  settledEnd: Date;
  /** Rows spooled for a partition before a completed prefix of it is merged early. */
  flushRows: number;
}

/** A completed prefix of a partition, ready for the writer. */
export interface Flushable {
  range: TimeWindow;
  windows: DoneWindow[];
  rows: number;
}

/**
 * The contiguous completed windows at the start of what a partition has not handed to the
 * writer yet, when they are due: the partition is complete up to its end, they hold at least
 * `flushRows` rows, or `force`. Pure.
 */
export function flushable(part: PartitionState, flushRows: number, force: boolean): Flushable | undefined {
  const range = contiguousPrefix(
    part.flushedTo,
    [...part.done.values()].map((d) => d.window),
  );
  if (!range) return undefined;
  const windows = [...part.done.values()].filter((d) => d.window.start >= range.start && d.window.end <= range.end);
  const rows = windows.reduce((n, w) => n + w.rows, 0);
  if (!force && range.end < part.end && rows < flushRows) return undefined;
  return { range, windows, rows };
}

/**
 * Where a domain's watermark moves now that its `flushed` ranges are in the lake: never past
 * `settledEnd`, never backward. Undefined when it does not move. Pure.
 */
export function nextWatermark(dom: DomainState, settledEnd: Date): Date | undefined {
  const reached = advanceWatermark(dom.watermark, dom.flushed, dom.seed);
  const next = reached && reached > settledEnd ? settledEnd : reached;
  return next && (!dom.watermark || next > dom.watermark) ? next : undefined;
}

/**
 * Hands finished windows to the lake writer, one contiguous range of a partition at a time, and
 * moves each domain's watermark once its rows are in the lake.
 */
export class PartitionMerger {
  private readonly partitions: PartitionState[] = [];
  private readonly flushes: Promise<void>[] = [];
  /** Flushes handed to the writer and not finished: fetching waits when too many pile up. */
  private readonly pending = new Set<Promise<void>>();
  private spooledTotal = 0;

  constructor(private readonly o: PartitionMergeOptions) {}

  /** Partitions this run fills (the run-wide spool budget picks among them). */
  track(parts: readonly PartitionState[]): void {
    this.partitions.push(...parts);
  }

  /**
   * Takes a finished window; merges what of its partition is due. `countWindow: false` for one
   * domain's share of a reseller-wide window (the window is counted once, by its reader).
   */
  complete(part: PartitionState, done: DoneWindow, opts: { countWindow?: boolean } = {}): void {
    const { events, flushRows } = this.o;
    part.done.set(done.window.start.getTime(), done);
    part.spooledRows += done.rows;
    this.spooledTotal += done.rows;
    if (opts.countWindow !== false) events.summary.windows++;
    events.summary.rowsFetched += done.rows;
    events.progress('windows');
    this.maybeFlush(part, part.spooledRows >= flushRows);
    // Many partitions filling side by side (round-robin) must not park a whole backfill on disk:
    // past the run-wide budget, the partition holding most rows merges what it has completed.
    if (this.spooledTotal >= flushRows * 4) {
      const fullest = this.partitions.reduce((a, b) => (b.spooledRows > a.spooledRows ? b : a));
      this.maybeFlush(fullest, true);
    }
  }

  /** Back-pressure: when the lake writer falls behind, fetching waits here so spooled pages stay bounded. */
  async waitForRoom(): Promise<void> {
    while (this.pending.size >= MAX_PENDING_FLUSHES) await Promise.race(this.pending);
  }

  /** Merges whatever completed contiguously (also after a failure or an abort) and waits for every merge. */
  async finish(): Promise<void> {
    for (const part of this.partitions) this.maybeFlush(part, true);
    await Promise.allSettled(this.flushes);
  }

  private maybeFlush(part: PartitionState, force: boolean): void {
    const due = flushable(part, this.o.flushRows, force);
    if (!due) return;
    for (const w of due.windows) part.done.delete(w.window.start.getTime());
    part.spooledRows -= due.rows;
    this.spooledTotal -= due.rows;
    part.flushedTo = due.range.end;
    const p: Promise<void> = this.flush(part, due.range, due.windows).finally(() => this.pending.delete(p));
    this.pending.add(p);
    this.flushes.push(p);
  }

  private async flush(part: PartitionState, range: TimeWindow, windows: DoneWindow[]): Promise<void> {
    const { writer, spool, events, clock, logger, dataDir } = this.o;
    const { summary } = events;
    const { domain } = part.dom;
    const files = windows.flatMap((w) => w.files);
    const expectedRows = windows.reduce((n, w) => n + w.rows, 0);
    const prune = windows.filter((w) => w.prunable).map((w) => w.window);
    try {
      const res = await writer.writePartition({
        domain,
        month: part.month,
        range,
        ...(prune.length > 0 ? { prune } : {}),
        files,
        ingestedAt: clock.now(),
        duplicateIds: duplicateIdsAcross(windows),
      });
      if (res.changed) {
        summary.partitionsWritten++;
        summary.rowsWritten += res.rowsTotal;
      } else {
        summary.partitionsUnchanged++;
      }
      if (res.rowsInRange !== expectedRows) {
        await events.anomaly({
          domain,
          windowStart: range.start,
          windowEnd: range.end,
          kind: 'write-mismatch',
          expected: expectedRows,
          got: res.rowsInRange,
          detail: 'distinct ids fetched vs rows the lake holds for the range (datetime the lake could not read?)',
        });
      }
      if (res.rowsRemoved > 0) {
        summary.rowsRemoved += res.rowsRemoved;
        if (res.removedPath) summary.removedFiles.push(res.removedPath);
        logger.warn(
          { domain, range: formatWindow(range), rows: res.rowsRemoved, keptIn: res.removedPath },
          'pruned rows the API no longer lists',
        );
      }
      if (res.rowsNotListed > 0) {
        summary.rowsNotListed += res.rowsNotListed;
        await events.anomaly({
          domain,
          windowStart: range.start,
          windowEnd: range.end,
          kind: 'not-listed',
          expected: null,
          got: res.rowsNotListed,
          detail:
            `the lake holds ${res.rowsNotListed} row(s) here that the API did not list; they are kept. ` +
            `If the PBX really deleted them: cdrpipe ingest --prune --from ${range.start.toISOString()} --to ${range.end.toISOString()} --domain ${domain}`,
        });
      }
      // A window whose answer disagreed with its count holds the watermark back: the next run reads it again.
      part.dom.flushed.push(...windows.filter((w) => w.clean).map((w) => w.window));
      const next = nextWatermark(part.dom, this.o.settledEnd);
      if (next) {
        await withState(dataDir, (db) => advanceWatermarkRow(db, domain, next, clock.now()));
        part.dom.watermark = next;
      }
      logger.debug(
        { domain, month: part.month, range: formatWindow(range), rows: res.rowsInRange, changed: res.changed },
        'partition range flushed',
      );
    } catch (err) {
      events.fail(domain, range, err);
    } finally {
      await spool.remove(files);
      events.progress('windows');
    }
  }
}
