import type { LakeWriter, PartitionWriteResult } from '../lake/index.ts';
import type { TimeWindow } from '../source/index.ts';
import { withState, advanceWatermarkRows } from '../state/index.ts';
import { duplicateIdsAcross } from './id-hashes.ts';
import type { IngestEvents } from './ingest-events.ts';
import type { DomainState, DoneWindow, PartitionState } from './ingest-state.ts';
import type { PageSpool } from './spool.ts';
import { advanceWatermark, contiguousPrefix, formatWindow } from './windows.ts';
import type { StageContext } from '../config/index.ts';
import type { HeapGarbage } from '../util/heap-garbage.ts';

/** Batches of writes handed to the writer at once (its lanes); more due ranges wait for the next batch, and fetching waits with them. */
const MAX_BATCHES_IN_FLIGHT = 2;
/**
 * Partitions handed to the writer in one call (it splits them into bounded statements). A call's
 * spool files are removed once all of it is written: thousands of partitions in one call left
 * tens of thousands of file removals (about 20 s at 5,000 domains) after the last write, where a
 * few hundred per call are removed while the next calls write.
 */
const MAX_BATCH_PARTITIONS = 500;
/**
 * Heap garbage a finished window leaves besides its page bytes: its count request and response,
 * its plan and result objects, its share of a batched write's SQL and results. A tick of 1,000
 * domains reads next to no page bytes, so without this no full collection ran and V8's old space
 * grew by ~18 MiB of such garbage over the tick (a full collection every second kept ~15 MiB of it off).
 */
export const WINDOW_GARBAGE_BYTES = 64 * 1024;

export interface PartitionMergeOptions extends Pick<StageContext, 'dataDir' | 'clock' | 'logger'> {
  writer: LakeWriter;
  spool: PageSpool;
  events: IngestEvents;
  /** Watermarks never pass this (now minus the settle time). */
  settledEnd: Date;
  /** Rows spooled for a partition before a completed prefix of it is merged early. */
  flushRows: number;
  /** Told WINDOW_GARBAGE_BYTES per finished window (page bytes are told by the spool). */
  garbage?: HeapGarbage;
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

/** A partition's completed range, waiting for the next batch of writes. */
interface QueuedFlush {
  part: PartitionState;
  range: TimeWindow;
  windows: DoneWindow[];
  /** Rows of its windows (what the back-pressure counts). */
  rows: number;
}

/**
 * Hands finished windows to the lake writer, one contiguous range of a partition at a time, and
 * moves each domain's watermark once its rows are in the lake. Ranges that become due while the
 * writer is busy wait and then go to it together (LakeWriter.writePartitions shares statements
 * among small writes), and their watermarks move in one state transaction: a tick that completes
 * thousands of partitions at once costs a few statements, not thousands. A partition never has
 * two writes in flight.
 */
export class PartitionMerger {
  private readonly partitions: PartitionState[] = [];
  /** Due ranges not yet handed to the writer, in the order they became due. */
  private queued: QueuedFlush[] = [];
  /** Rows of the queued ranges (their spool files wait on disk). */
  private queuedRows = 0;
  /** Partitions with a write in flight. */
  private readonly writing = new Set<PartitionState>();
  /** Batches handed to the writer and not finished: fetching waits when the writer is saturated. */
  private readonly batches = new Set<Promise<void>>();
  private drainScheduled = false;
  private spooledTotal = 0;
  /** Spool files of written batches being removed (the next batch need not wait for it). */
  private readonly removals = new Set<Promise<void>>();

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
    this.o.garbage?.add(WINDOW_GARBAGE_BYTES);
    this.maybeFlush(part, part.spooledRows >= flushRows);
    // Many partitions filling side by side (round-robin) must not park a whole backfill on disk:
    // past the run-wide budget, the partition holding most rows merges what it has completed.
    if (this.spooledTotal >= flushRows * 4) {
      const fullest = this.partitions.reduce((a, b) => (b.spooledRows > a.spooledRows ? b : a));
      this.maybeFlush(fullest, true);
    }
  }

  /**
   * Back-pressure: while the writer is saturated and `flushRows` rows or more wait for it,
   * fetching waits here so spooled pages stay bounded. Below that, fetching goes on beside the
   * writes (their spool files wait on disk, and the writer takes them together in its next
   * batch): waiting as soon as one range queued behind two slow writes stopped every request of
   * a backfill until they finished.
   */
  async waitForRoom(): Promise<void> {
    while (this.batches.size >= MAX_BATCHES_IN_FLIGHT && this.queued.length > 0 && this.queuedRows >= this.o.flushRows)
      await Promise.race(this.batches);
  }

  /** Merges whatever completed contiguously (also after a failure or an abort) and waits for every merge. */
  async finish(): Promise<void> {
    for (const part of this.partitions) this.maybeFlush(part, true);
    for (;;) {
      this.drain();
      if (this.batches.size === 0) break;
      await Promise.allSettled([...this.batches]);
    }
    await Promise.allSettled([...this.removals]);
  }

  private maybeFlush(part: PartitionState, force: boolean): void {
    const due = flushable(part, this.o.flushRows, force);
    if (!due) return;
    for (const w of due.windows) part.done.delete(w.window.start.getTime());
    part.spooledRows -= due.rows;
    this.spooledTotal -= due.rows;
    part.flushedTo = due.range.end;
    this.queued.push({ part, range: due.range, windows: due.windows, rows: due.rows });
    this.queuedRows += due.rows;
    // After the current turn: the other partitions a window completes join the same batch.
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(() => {
        this.drainScheduled = false;
        this.drain();
      });
    }
  }

  /** Starts batches of the queued ranges while the writer has room: at most one range per partition, none of a partition being written. */
  private drain(): void {
    while (this.batches.size < MAX_BATCHES_IN_FLIGHT && this.queued.length > 0) {
      const take: QueuedFlush[] = [];
      const rest: QueuedFlush[] = [];
      const taken = new Set<PartitionState>();
      for (const q of this.queued) {
        if (this.writing.has(q.part) || taken.has(q.part) || take.length >= MAX_BATCH_PARTITIONS) rest.push(q);
        else {
          take.push(q);
          taken.add(q.part);
        }
      }
      if (take.length === 0) return;
      this.queued = rest;
      for (const q of take) this.queuedRows -= q.rows;
      for (const q of take) this.writing.add(q.part);
      const p: Promise<void> = this.flushBatch(take).finally(() => {
        this.batches.delete(p);
        for (const q of take) this.writing.delete(q.part);
        this.drain();
      });
      this.batches.add(p);
    }
  }

  private async flushBatch(items: readonly QueuedFlush[]): Promise<void> {
    const { writer, spool, events, clock, dataDir } = this.o;
    const files = items.flatMap((q) => q.windows.flatMap((w) => w.files));
    try {
      let results: PromiseSettledResult<PartitionWriteResult>[];
      try {
        results = await writer.writePartitions(
          items.map(({ part, range, windows }) => {
            const prune = windows.filter((w) => w.prunable).map((w) => w.window);
            return {
              domain: part.dom.domain,
              month: part.month,
              range,
              ...(prune.length > 0 ? { prune } : {}),
              files: windows.flatMap((w) => w.files),
              ingestedAt: clock.now(),
              duplicateIds: duplicateIdsAcross(windows),
            };
          }),
        );
      } catch (err) {
        results = items.map(() => ({ status: 'rejected', reason: err }));
      }
      const moved = new Set<DomainState>();
      for (const [k, q] of items.entries()) {
        const r = results[k]!;
        if (r.status === 'rejected') {
          events.fail(q.part.dom.domain, q.range, r.reason);
          continue;
        }
        try {
          await this.record(q, r.value);
          moved.add(q.part.dom);
        } catch (err) {
          events.fail(q.part.dom.domain, q.range, err);
        }
      }
      // Every watermark the batch moves, in one state transaction.
      const moves = [...moved]
        .map((dom) => ({ dom, next: nextWatermark(dom, this.o.settledEnd) }))
        .filter((m): m is { dom: DomainState; next: Date } => m.next !== undefined);
      if (moves.length > 0) {
        try {
          await withState(dataDir, (db) =>
            advanceWatermarkRows(
              db,
              moves.map((m) => ({ domain: m.dom.domain, watermark: m.next })),
              clock.now(),
            ),
          );
          for (const m of moves) m.dom.watermark = m.next;
        } catch (err) {
          for (const q of items) if (moves.some((m) => m.dom === q.part.dom)) events.fail(q.part.dom.domain, q.range, err);
        }
      }
    } finally {
      // The rows are in the lake (or the write failed and its windows are read again): the files
      // are no longer needed, and the writer's lanes go on to the next batch meanwhile.
      const removal: Promise<void> = spool
        .remove(files)
        .catch(() => undefined)
        .finally(() => this.removals.delete(removal));
      this.removals.add(removal);
      for (let i = 0; i < items.length; i++) events.progress('windows');
    }
  }

  /** A written range's figures in the summary, its anomalies, and its clean windows as flushed. */
  private async record(q: QueuedFlush, res: PartitionWriteResult): Promise<void> {
    const { events, logger } = this.o;
    const { summary } = events;
    const { part, range, windows } = q;
    const { domain } = part.dom;
    const expectedRows = windows.reduce((n, w) => n + w.rows, 0);
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
    logger.debug(
      { domain, month: part.month, range: formatWindow(range), rows: res.rowsInRange, changed: res.changed },
      'partition range flushed',
    );
  }
}
