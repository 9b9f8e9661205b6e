import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import pLimit from 'p-limit';
import type { CdrpipeConfig } from '../config/config-schema.ts';
import { LakeWriter, type RejectRow } from '../lake/lake-writer.ts';
import { duplicateIdsAcross } from './id-hashes.ts';
import { encodePartitionValue } from '../lake/partition-path.ts';
import type { CdrSource, TimeWindow } from '../source/types.ts';
import { openAnomalyDomainsOf, recordAnomaly, resolveAnomaliesWithin, type Anomaly } from '../state/anomalies.ts';
import { withState } from '../state/state-db.ts';
import { advanceWatermarkRow, pullBackWatermarks, readWatermarks } from '../state/watermarks.ts';
import type { Clock } from '../util/clock.ts';
import { redact, UsageError } from '../util/errors.ts';
import type { Logger } from '../util/logger.ts';
import type { Month } from '../util/month.ts';
import { FairQueue } from './fair-queue.ts';
import { IngestIncompleteError, type IngestAnomaly, type IngestProgress, type IngestSummary } from './ingest-summary.ts';
import { PageSpool } from './spool.ts';
import { fetchWindow, type WindowFetch } from './window-fetch.ts';
import { advanceWatermark, contiguousPrefix, countsPlausible, cutWindows, decideWindow, formatWindow, incrementalRange, windowMonth } from './windows.ts';
import { acquireIngestLock, cleanStaleWorkDirs, createWorkDir, removeWorkDir } from './work-dir.ts';
import { abortAfterGrace, DEFAULT_ABORT_GRACE_MS } from './abort-grace.ts';

export interface IngestOptions {
  dataDir: string;
  config: CdrpipeConfig;
  source: CdrSource;
  clock: Clock;
  logger: Logger;
  /**
   * Stops taking new windows; windows in flight get `abortGraceMs` to finish, then their requests
   * are aborted (those windows are left for the next run). Completed ranges are flushed.
   */
  signal?: AbortSignal;
  /** Default DEFAULT_ABORT_GRACE_MS. */
  abortGraceMs?: number;
  /** Backfill [from, to). Without both: incremental from each domain's watermark. */
  from?: Date;
  to?: Date;
  /** Only these domains (default: every domain the API lists). */
  domains?: string[];
  /** Requests in flight across the run (default `config.ingest.concurrency`). */
  concurrency?: number;
  onProgress?: (p: IngestProgress) => void;
  runId?: string;
  /** Rows spooled for a partition before a completed prefix of it is merged early (bounds disk use). */
  flushRows?: number;
  /** DuckDB memory cap of the lake writer (it spills beyond it). Default 256MB. */
  writerMemoryLimit?: string;
  /**
   * Remove stored rows the API no longer lists, in windows whose answer matched its count and a
   * second count confirmed it; they move to lake/removed/. Without it nothing stored is removed.
   */
  prune?: boolean;
}

const DEFAULT_FLUSH_ROWS = 500_000;
const MAX_PENDING_FLUSHES = 4;

interface DomainState {
  domain: string;
  watermark: Date | undefined;
  /** Where an incremental run for a domain without a watermark started. */
  seed: Date | undefined;
  flushed: TimeWindow[];
}

interface DoneWindow {
  window: TimeWindow;
  /** The answer matched the count: the watermark may pass this window. */
  clean: boolean;
  /** Stored rows of this window that were not fetched may be removed (`prune`, confirmed count). */
  prunable: boolean;
  files: string[];
  rows: number;
  idHashes: Float64Array;
  duplicateIds: string[];
}

interface PartitionState {
  dom: DomainState;
  month: Month;
  end: Date;
  /** Everything before this has been handed to the writer. */
  flushedTo: Date;
  done: Map<number, DoneWindow>;
  spooledRows: number;
}

interface WindowTask {
  part: PartitionState;
  window: TimeWindow;
  /** Known when the window is a half of a split (its parent counted it). */
  count?: number;
}

/**
 * Pages every selected domain's CDRs into the lake: windows sized by count, pages fetched
 * concurrently under one global limit with round-robin fairness across domains, each
 * partition merged atomically, watermarks moved only after the rows are in the lake, and a
 * completeness check per window. Throws IngestIncompleteError (with the summary) when some
 * windows failed; everything that did complete is in the lake.
 */
export async function runIngest(opts: IngestOptions): Promise<IngestSummary> {
  const { dataDir, source, clock, logger } = opts;
  const settings = opts.config.ingest;
  const concurrency = opts.concurrency ?? settings.concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`concurrency must be a whole number >= 1, got ${concurrency}`);
  const backfill = opts.from !== undefined || opts.to !== undefined;
  const now = clock.now();
  // Nothing later than this is read or passed by a watermark: calls there have not settled yet.
  const settledEnd = new Date(now.getTime() - settings.settleMinutes * 60_000);
  const from = opts.from;
  const requestedTo = opts.to ?? (opts.from ? settledEnd : undefined);
  if (backfill && (!from || !requestedTo)) throw new UsageError('--to needs --from: give both ends of the backfill range, or neither for an incremental run');
  if (from && requestedTo && !(from < requestedTo)) throw new UsageError(`--from ${from.toISOString()} must be before --to ${requestedTo.toISOString()}`);
  if (from && !(from < settledEnd)) {
    throw new UsageError(
      `--from ${from.toISOString()} is not before now minus the settle time (${settledEnd.toISOString()}, ingest.settleMinutes = ${settings.settleMinutes}): nothing there has settled yet; give an earlier --from`,
    );
  }
  const to = requestedTo && requestedTo > settledEnd ? settledEnd : requestedTo;
  if (requestedTo && to && to < requestedTo) {
    logger.warn({ requestedTo: requestedTo.toISOString(), to: to.toISOString(), settleMinutes: settings.settleMinutes }, 'ingest range clamped to now minus the settle time');
  }

  const t0 = performance.now();
  const runId = opts.runId ?? randomUUID();
  const stats0 = source.stats();
  const limit = pLimit(concurrency);
  const summary: IngestSummary = {
    runId,
    mode: backfill ? 'backfill' : 'incremental',
    ...(from && to ? { range: { from: from.toISOString(), to: to.toISOString() } } : {}),
    ...(requestedTo && to && to < requestedTo ? { clampedFrom: requestedTo.toISOString() } : {}),
    prune: opts.prune === true,
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
  let windowsKnown = 0;
  const progress = (phase: IngestProgress['phase']) => {
    if (!opts.onProgress) return;
    opts.onProgress({ phase, done: summary.windows, total: windowsKnown, rows: summary.rowsFetched, requests: source.stats().requests - stats0.requests });
  };
  const fail = (domain: string, window: TimeWindow | undefined, err: unknown) => {
    const error = redact(err instanceof Error ? err.message : String(err));
    summary.failures.push({ domain, ...(window ? { windowStart: window.start.toISOString(), windowEnd: window.end.toISOString() } : {}), error });
    logger.error({ domain, window: window ? formatWindow(window) : undefined, err: error }, 'ingest window failed');
  };

  const releaseLock = await acquireIngestLock(dataDir);
  // Every request of the run carries this: it aborts a short grace period after a stop.
  const requests = abortAfterGrace(opts.signal, opts.abortGraceMs ?? DEFAULT_ABORT_GRACE_MS);
  let windowsCut = 0;
  try {
    return await ingestLocked();
  } finally {
    requests.dispose();
    await releaseLock();
  }

  // Everything below runs under the lock.
  async function ingestLocked(): Promise<IngestSummary> {
    await cleanStaleWorkDirs(dataDir);
    const workDir = await createWorkDir(dataDir, runId);
    const writer = await LakeWriter.open(dataDir, { workDir: join(workDir, 'writer'), memoryLimit: opts.writerMemoryLimit });
    const spool = await PageSpool.create(join(workDir, 'spool'));
    const rejects: RejectRow[] = [];
    const flushes: Promise<void>[] = [];
    /** Flushes handed to the writer and not finished: fetching waits when too many pile up. */
    const pendingFlushes = new Set<Promise<void>>();
    const flushRows = opts.flushRows ?? DEFAULT_FLUSH_ROWS;
    let spooledTotal = 0;

    const addAnomaly = async (a: Anomaly) => {
      const row: IngestAnomaly = {
        domain: a.domain,
        windowStart: a.windowStart.toISOString(),
        windowEnd: a.windowEnd.toISOString(),
        kind: a.kind,
        expected: a.expected,
        got: a.got,
        detail: a.detail,
      };
      summary.anomalies.push(row);
      logger.warn(row, 'ingest completeness anomaly');
      await withState(dataDir, (db) => recordAnomaly(db, a, clock.now()));
    };

    const flush = async (part: PartitionState, range: TimeWindow, windows: DoneWindow[]) => {
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
          await addAnomaly({
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
          logger.warn({ domain, range: formatWindow(range), rows: res.rowsRemoved, keptIn: res.removedPath }, 'pruned rows the API no longer lists');
        }
        if (res.rowsNotListed > 0) {
          summary.rowsNotListed += res.rowsNotListed;
          await addAnomaly({
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
        const reached = advanceWatermark(part.dom.watermark, part.dom.flushed, part.dom.seed);
        const next = reached && reached > settledEnd ? settledEnd : reached;
        if (next && (!part.dom.watermark || next > part.dom.watermark)) {
          await withState(dataDir, (db) => advanceWatermarkRow(db, domain, next, clock.now()));
          part.dom.watermark = next;
        }
        logger.debug({ domain, month: part.month, range: formatWindow(range), rows: res.rowsInRange, changed: res.changed }, 'partition range flushed');
      } catch (err) {
        fail(domain, range, err);
      } finally {
        await spool.remove(files);
        progress('windows');
      }
    };

    const maybeFlush = (part: PartitionState, force: boolean) => {
      const prefix = contiguousPrefix(part.flushedTo, [...part.done.values()].map((d) => d.window));
      if (!prefix) return;
      const windows = [...part.done.values()].filter((d) => d.window.start >= prefix.start && d.window.end <= prefix.end);
      const rows = windows.reduce((n, w) => n + w.rows, 0);
      if (!force && prefix.end < part.end && rows < flushRows) return;
      for (const w of windows) part.done.delete(w.window.start.getTime());
      part.spooledRows -= rows;
      spooledTotal -= rows;
      part.flushedTo = prefix.end;
      const p: Promise<void> = flush(part, prefix, windows).finally(() => pendingFlushes.delete(p));
      pendingFlushes.add(p);
      flushes.push(p);
    };

    const complete = (part: PartitionState, done: DoneWindow) => {
      part.done.set(done.window.start.getTime(), done);
      part.spooledRows += done.rows;
      spooledTotal += done.rows;
      summary.windows++;
      summary.rowsFetched += done.rows;
      progress('windows');
      maybeFlush(part, part.spooledRows >= flushRows);
      // Many partitions filling side by side (round-robin) must not park a whole backfill on disk:
      // past the run-wide budget, the partition holding most rows merges what it has completed.
      if (spooledTotal >= flushRows * 4) {
        const fullest = partitions.reduce((a, b) => (b.spooledRows > a.spooledRows ? b : a));
        maybeFlush(fullest, true);
      }
    };

    const queue = new FairQueue<WindowTask>();
    const partitions: PartitionState[] = [];
    const domainStates: DomainState[] = [];
    try {
      progress('domains');
      const listed = await limit(() => source.listDomains({ signal: requests.signal }));
      await writer.writeDomains(listed, clock.now());
      const names = [...new Set(opts.domains && opts.domains.length > 0 ? opts.domains : listed.map((d) => d.domain))];
      const known = new Set(listed.map((d) => d.domain));
      for (const n of names) if (!known.has(n)) logger.warn({ domain: n }, 'domain is not in the API domain list; ingesting it anyway');
      const [pulledBack, watermarks, openAnomalyDomains] = await withState(
        dataDir,
        async (db) => [await pullBackWatermarks(db, settledEnd, clock.now()), await readWatermarks(db), await openAnomalyDomainsOf(db)] as const,
      );
      if (pulledBack.length > 0) logger.warn({ domains: pulledBack, to: settledEnd.toISOString() }, 'watermarks past now minus the settle time pulled back');

      for (const domain of names) {
        try {
          encodePartitionValue(domain);
        } catch (err) {
          // "." and ".." cannot name a partition: reported, but not a failure of every run.
          const reason = redact(err instanceof Error ? err.message : String(err));
          summary.skippedDomains.push({ domain, reason });
          logger.warn({ domain, reason }, 'domain skipped');
          continue;
        }
        const wm = watermarks.get(domain);
        const range = backfill ? { start: from!, end: to! } : incrementalRange(wm, now, settings);
        const dom: DomainState = { domain, watermark: wm, seed: !backfill && !wm ? range?.start : undefined, flushed: [] };
        domainStates.push(dom);
        summary.domains++;
        if (!range) continue;
        const byMonth = new Map<Month, PartitionState>();
        for (const window of cutWindows(range, settings.maxWindowDays)) {
          const month = windowMonth(window);
          let part = byMonth.get(month);
          if (!part) {
            part = { dom, month, end: window.end, flushedTo: window.start, done: new Map(), spooledRows: 0 };
            byMonth.set(month, part);
            partitions.push(part);
          }
          part.end = window.end;
          queue.push(domain, { part, window });
          windowsKnown++;
        }
      }

      const countOf = async (domain: string, window: TimeWindow): Promise<number> =>
        (await limit(() => source.countCdrs(domain, window, { signal: requests.signal }))).total;
      const args = (domain: string, window: TimeWindow) => ({ source, domain, window, pageSize: settings.pageSize, limit, spool, signal: requests.signal });

      /** Keeps what a window's fetch produced for the writer. */
      const keep = (part: PartitionState, window: TimeWindow, fetched: WindowFetch, clean: boolean, prunable: boolean) => {
        const { domain } = part.dom;
        for (const r of fetched.rejects) rejects.push({ domain, window, reason: r.reason, rawText: r.rawText });
        summary.rejects += fetched.rejects.length;
        summary.outOfWindow += fetched.outOfWindow;
        complete(part, { window, clean, prunable, files: fetched.files, rows: fetched.distinctIds, idHashes: fetched.idHashes, duplicateIds: fetched.duplicateIds });
      };

      /**
       * A window whose count cannot be believed: read by what the list returns (up to a short
       * page, waves no larger than the row budget plans), upsert it, and say so.
       */
      const fetchUntrusted = async (part: PartitionState, window: TimeWindow, count: number, why: string): Promise<void> => {
        const { domain } = part.dom;
        const fetched = await fetchWindow({ ...args(domain, window), total: settings.rowBudget });
        await addAnomaly({
          domain,
          windowStart: window.start,
          windowEnd: window.end,
          kind: 'implausible-count',
          expected: Number.isSafeInteger(count) ? count : null,
          got: fetched.distinctIds,
          detail: `${why}; read the list instead (${fetched.pages} page(s)), stored rows kept`,
        });
        keep(part, window, fetched, false, false);
      };

      const processWindow = async ({ part, window, count: known }: WindowTask): Promise<void> => {
        const { domain } = part.dom;
        const total = known ?? (await countOf(domain, window));
        if (!countsPlausible(total)) return fetchUntrusted(part, window, total, `count ${total} is not a whole number of CDRs`);
        const decision = decideWindow(window, total, settings);
        if (decision.kind === 'split') {
          // The halves are counted here, so a count that repeats itself for every sub-window is
          // caught at the first split instead of halving down to the floor.
          const [a, b] = decision.halves;
          const [ca, cb] = await Promise.all([countOf(domain, a), countOf(domain, b)]);
          if (!countsPlausible(total, [ca, cb])) return fetchUntrusted(part, window, total, `its halves count ${ca} + ${cb}, more than its own ${total}`);
          summary.windowsSplit++;
          windowsKnown += 1;
          queue.unshift(domain, { part, window: a, count: ca }, { part, window: b, count: cb });
          return;
        }
        if (decision.kind === 'empty' && !opts.prune) {
          // Nothing to read; stored rows of the window are kept (and reported when there are any).
          summary.windowsEmpty++;
          complete(part, { window, clean: true, prunable: false, files: [], rows: 0, idHashes: new Float64Array(0), duplicateIds: [] });
          return;
        }
        if (decision.kind === 'empty') summary.windowsEmpty++;
        let fetched: WindowFetch = await fetchWindow({ ...args(domain, window), total });
        let expected = total;
        if (gotOf(fetched) !== expected) {
          logger.info({ domain, window: formatWindow(window), expected, got: gotOf(fetched) }, 'rows differ from the count; re-fetching the window once');
          summary.refetches++;
          await spool.remove(fetched.files);
          expected = await countOf(domain, window);
          fetched = await fetchWindow({ ...args(domain, window), total: expected });
          if (gotOf(fetched) !== expected) {
            await addAnomaly({
              domain,
              windowStart: window.start,
              windowEnd: window.end,
              kind: 'count-mismatch',
              expected: Number.isSafeInteger(expected) ? expected : null,
              got: fetched.distinctIds,
              detail: `after one re-fetch: ${fetched.distinctIds} distinct valid, ${fetched.rejects.length} rejected, ${fetched.outOfWindow} outside the window; stored rows kept`,
            });
          }
        }
        const clean = gotOf(fetched) === expected;
        if (clean && openAnomalyDomains.has(domain)) {
          await withState(dataDir, (db) => resolveAnomaliesWithin(db, domain, window.start, window.end, clock.now()));
        }
        let prunable = false;
        if (clean && opts.prune) {
          // Removing rows needs the smaller total said twice: a second count must agree.
          const confirm = await countOf(domain, window);
          // A list padded with repeats of some ids may match the count yet miss others: never prune on it.
          prunable = confirm === expected && fetched.repeats === 0;
          if (!prunable) logger.warn({ domain, window: formatWindow(window), first: expected, second: confirm }, 'counts moved between two requests; nothing pruned in this window');
        }
        keep(part, window, fetched, clean, prunable);
      };

      // Windows in flight: enough to keep `concurrency` requests busy while others count or spool.
      const maxActive = Math.max(2, concurrency * 2);
      const active = new Set<Promise<void>>();
      for (;;) {
        // Back-pressure: when the lake writer falls behind, stop fetching so spooled pages stay bounded.
        while (pendingFlushes.size >= MAX_PENDING_FLUSHES) await Promise.race(pendingFlushes);
        while (!opts.signal?.aborted && active.size < maxActive) {
          const task = queue.next();
          if (!task) break;
          const p: Promise<void> = processWindow(task)
            .catch((err: unknown) => {
              // Cut off by the stop: left for the next run, not a failure of the window.
              if (requests.signal.aborted) windowsCut++;
              else fail(task.part.dom.domain, task.window, err);
            })
            .finally(() => active.delete(p));
          active.add(p);
        }
        if (active.size === 0) break;
        await Promise.race(active);
      }
      if (opts.signal?.aborted && (queue.size > 0 || windowsCut > 0)) {
        summary.interrupted = true;
        logger.warn(
          { windowsLeft: queue.size, windowsCut },
          'ingest interrupted: windows that completed were flushed; windows cut off after the grace period and the rest are left for the next run',
        );
        queue.clear();
      }
    } finally {
      // Whatever completed contiguously is merged, also after a failure or an abort.
      for (const part of partitions) maybeFlush(part, true);
      await Promise.allSettled(flushes);
      try {
        const stored = await writer.writeRejects(rejects, runId, clock.now());
        if (stored.path) summary.rejectsFile = stored.path;
        summary.rejectsNew = stored.added;
      } catch (err) {
        fail('(rejects)', undefined, err);
      }
      await writer.close();
      await removeWorkDir(workDir);
    }

    const stats = source.stats();
    summary.requests = stats.requests - stats0.requests;
    summary.retries = stats.retries - stats0.retries;
    for (const [k, v] of Object.entries(stats.retriesByReason)) {
      const d = v - (stats0.retriesByReason[k] ?? 0);
      if (d > 0) summary.retriesByReason[k] = d;
    }
    summary.rows = summary.rowsWritten;
    for (const d of domainStates) if (d.watermark) summary.watermarks[d.domain] = d.watermark.toISOString();
    summary.elapsedMs = Math.round(performance.now() - t0);
    progress('done');
    logger.info({ ...summary, anomalies: summary.anomalies.length, failures: summary.failures.length }, 'ingest finished');
    if (summary.failures.length > 0 || summary.anomalies.length > 0) throw new IngestIncompleteError(summary);
    return summary;
  }
}

/**
 * Ids the writer must de-duplicate: seen twice within a window, or in two windows merged
 * together (a CDR whose start time moved between the two fetches).
 */
/** What the server sent for a window, to compare with its count. */
function gotOf(f: WindowFetch): number {
  // Every record the list answered counts against the count, repeats of an id included: the PBX
  // counted them too. The lake keeps one copy of each id.
  return f.distinctIds + f.repeats + f.rejects.length + f.outOfWindow;
}
