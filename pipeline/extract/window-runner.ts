import type { LimitFunction } from 'p-limit';
import type { IngestSettings, StageContext } from '../config/index.ts';
import type { RejectRow } from '../lake/index.ts';
import type { CdrSource, TimeWindow } from '../source/index.ts';
import { resolveAnomaliesWithin, withState } from '../state/index.ts';
import type { FairQueue } from './fair-queue.ts';
import type { IngestEvents } from './ingest-events.ts';
import type { PartitionState, WindowTask } from './ingest-state.ts';
import type { PartitionMerger } from './partition-merge.ts';
import type { PageSpool } from './spool.ts';
import { fetchWindow, type WindowFetch } from './window-fetch.ts';
import { countsPlausible, decideWindow, formatWindow } from './windows.ts';

export interface WindowRunnerOptions extends Pick<StageContext, 'dataDir' | 'clock' | 'logger'> {
  source: CdrSource;
  settings: IngestSettings;
  /** Requests in flight across the run. */
  concurrency: number;
  /** The run's global limit on requests in flight. */
  limit: LimitFunction;
  spool: PageSpool;
  merger: PartitionMerger;
  events: IngestEvents;
  /** The caller's stop: no new window is taken once it fires. */
  stop?: AbortSignal;
  /** Carried by every request: fires a grace period after `stop`. */
  requests: AbortSignal;
  prune: boolean;
  /** Domains with open completeness anomalies: a clean window resolves those it covers. */
  openAnomalyDomains: ReadonlySet<string>;
  /** Where records that failed validation are collected for the writer. */
  rejects: RejectRow[];
}

/**
 * What the server sent for a window, to compare with its count. Pure.
 */
export function gotOf(f: WindowFetch): number {
  // Every record the list answered counts against the count, repeats of an id included: the PBX
  // counted them too. The lake keeps one copy of each id.
  return f.distinctIds + f.repeats + f.rejects.length + f.outOfWindow;
}

/**
 * Counts, splits and fetches the windows of a run, fairly across domains under the global
 * request limit; re-fetches a window whose answer disagrees with its count, records anomalies,
 * confirms counts before pruning, and hands every finished window to the merger.
 */
export class WindowRunner {
  /** Windows in flight when the stop's grace period ran out (left for the next run). */
  private windowsCut = 0;

  constructor(
    private readonly o: WindowRunnerOptions,
    private readonly queue: FairQueue<WindowTask>,
  ) {}

  /**
   * Runs every queued window (and the halves of splits) to the end, or until the stop. Windows
   * that fail are recorded in the summary; the run goes on with the others.
   */
  async run(): Promise<void> {
    const { stop, requests, merger, events, logger } = this.o;
    const queue = this.queue;
    // Windows in flight: enough to keep `concurrency` requests busy while others count or spool.
    const maxActive = Math.max(2, this.o.concurrency * 2);
    const active = new Set<Promise<void>>();
    for (;;) {
      await merger.waitForRoom();
      while (!stop?.aborted && active.size < maxActive) {
        const task = queue.next();
        if (!task) break;
        const p: Promise<void> = this.processWindow(task)
          .catch((err: unknown) => {
            // Cut off by the stop: left for the next run, not a failure of the window.
            if (requests.aborted) this.windowsCut++;
            else events.fail(task.part.dom.domain, task.window, err);
          })
          .finally(() => active.delete(p));
        active.add(p);
      }
      if (active.size === 0) break;
      await Promise.race(active);
    }
    if (stop?.aborted && (queue.size > 0 || this.windowsCut > 0)) {
      events.summary.interrupted = true;
      logger.warn(
        { windowsLeft: queue.size, windowsCut: this.windowsCut },
        'ingest interrupted: windows that completed were flushed; windows cut off after the grace period and the rest are left for the next run',
      );
      queue.clear();
    }
  }

  private async countOf(domain: string, window: TimeWindow): Promise<number> {
    const { limit, source, requests } = this.o;
    return (await limit(() => source.countCdrs(domain, window, { signal: requests }))).total;
  }

  private fetch(domain: string, window: TimeWindow, total: number): Promise<WindowFetch> {
    const { source, settings, limit, spool, requests } = this.o;
    return fetchWindow({ source, domain, window, pageSize: settings.pageSize, limit, spool, signal: requests, total });
  }

  private async processWindow({ part, window, count: known }: WindowTask): Promise<void> {
    const { settings, events, logger, spool, dataDir, clock } = this.o;
    const { summary } = events;
    const { domain } = part.dom;
    const total = known ?? (await this.countOf(domain, window));
    if (!countsPlausible(total)) return this.fetchUntrusted(part, window, total, `count ${total} is not a whole number of CDRs`);
    const decision = decideWindow(window, total, settings);
    if (decision.kind === 'split') {
      // The halves are counted here, so a count that repeats itself for every sub-window is
      // caught at the first split instead of halving down to the floor.
      const [a, b] = decision.halves;
      const [ca, cb] = await Promise.all([this.countOf(domain, a), this.countOf(domain, b)]);
      if (!countsPlausible(total, [ca, cb]))
        return this.fetchUntrusted(part, window, total, `its halves count ${ca} + ${cb}, more than its own ${total}`);
      summary.windowsSplit++;
      events.windowsKnown += 1;
      this.queue.unshift(domain, { part, window: a, count: ca }, { part, window: b, count: cb });
      return;
    }
    if (decision.kind === 'empty' && !this.o.prune) {
      // Nothing to read; stored rows of the window are kept (and reported when there are any).
      summary.windowsEmpty++;
      this.o.merger.complete(part, {
        window,
        clean: true,
        prunable: false,
        files: [],
        rows: 0,
        idHashes: new Float64Array(0),
        duplicateIds: [],
      });
      return;
    }
    if (decision.kind === 'empty') summary.windowsEmpty++;
    let fetched = await this.fetch(domain, window, total);
    let expected = total;
    if (gotOf(fetched) !== expected) {
      logger.info(
        { domain, window: formatWindow(window), expected, got: gotOf(fetched) },
        'rows differ from the count; re-fetching the window once',
      );
      summary.refetches++;
      await spool.remove(fetched.files);
      expected = await this.countOf(domain, window);
      fetched = await this.fetch(domain, window, expected);
      if (gotOf(fetched) !== expected) {
        await events.anomaly({
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
    if (clean && this.o.openAnomalyDomains.has(domain)) {
      await withState(dataDir, (db) => resolveAnomaliesWithin(db, domain, window.start, window.end, clock.now()));
    }
    let prunable = false;
    if (clean && this.o.prune) {
      // Removing rows needs the smaller total said twice: a second count must agree.
      const confirm = await this.countOf(domain, window);
      // A list padded with repeats of some ids may match the count yet miss others: never prune on it.
      prunable = confirm === expected && fetched.repeats === 0;
      if (!prunable)
        logger.warn(
          { domain, window: formatWindow(window), first: expected, second: confirm },
          'counts moved between two requests; nothing pruned in this window',
        );
    }
    this.keep(part, window, fetched, clean, prunable);
  }

  /**
   * A window whose count cannot be believed: read by what the list returns (up to a short
   * page, waves no larger than the row budget plans), upsert it, and say so.
   */
  private async fetchUntrusted(part: PartitionState, window: TimeWindow, count: number, why: string): Promise<void> {
    const { domain } = part.dom;
    const fetched = await this.fetch(domain, window, this.o.settings.rowBudget);
    await this.o.events.anomaly({
      domain,
      windowStart: window.start,
      windowEnd: window.end,
      kind: 'implausible-count',
      expected: Number.isSafeInteger(count) ? count : null,
      got: fetched.distinctIds,
      detail: `${why}; read the list instead (${fetched.pages} page(s)), stored rows kept`,
    });
    this.keep(part, window, fetched, false, false);
  }

  /** Keeps what a window's fetch produced for the writer. */
  private keep(part: PartitionState, window: TimeWindow, fetched: WindowFetch, clean: boolean, prunable: boolean): void {
    const { domain } = part.dom;
    const { summary } = this.o.events;
    for (const r of fetched.rejects) this.o.rejects.push({ domain, window, reason: r.reason, rawText: r.rawText });
    summary.rejects += fetched.rejects.length;
    summary.outOfWindow += fetched.outOfWindow;
    this.o.merger.complete(part, {
      window,
      clean,
      prunable,
      files: fetched.files,
      rows: fetched.distinctIds,
      idHashes: fetched.idHashes,
      duplicateIds: fetched.duplicateIds,
    });
  }
}
