import type { LimitFunction } from 'p-limit';
import type { IngestSettings, StageContext } from '../config/index.ts';
import type { RejectRow } from '../lake/index.ts';
import { ALL_DOMAINS, NetSapiensHttpError, type CdrSource, type TimeWindow } from '../source/index.ts';
import { resolveAnomaliesWithin, withState } from '../state/index.ts';
import { redact } from '../util/errors.ts';
import type { Month } from '../util/month.ts';
import { idHashesOf } from './id-hashes.ts';
import type { IngestEvents } from './ingest-events.ts';
import type { DoneWindow, PartitionState } from './ingest-state.ts';
import type { PartitionMerger } from './partition-merge.ts';
import { emptyRouted, routePage, unroutableReason, type RoutedWindow } from './reseller-route.ts';
import type { PageSpool } from './spool.ts';
import { DEFAULT_MAX_WAVE } from './window-fetch.ts';
import { countsPlausible, cutWindows, decideWindow, formatWindow, nextWave, promisedPages, windowMonth } from './windows.ts';

/** The reseller-wide endpoints of a source that has them. */
type SharedSource = Required<Pick<CdrSource, 'countAllCdrs' | 'fetchAllCdrPage'>> & CdrSource;

/** Whether the run reads reseller-wide, and why not when it does not. */
export type SharedDecision =
  { use: true; source: SharedSource; first: { window: TimeWindow; total: number } } | { use: false; reason: string };

/**
 * Decides once per run whether the reseller-wide endpoints can be used: the source must have
 * them, the key must not be domain-scoped, and a count of the first shared window (the probe,
 * whose answer the run then uses) must not be refused. 403 and 404 mean "not for these
 * credentials / not on this server"; any other failure of the probe is taken the same way: the
 * run reads per domain instead, and says so.
 */
export async function decideShared(
  source: CdrSource,
  shared: TimeWindow,
  maxWindowDays: number,
  signal: AbortSignal,
): Promise<SharedDecision> {
  if (!source.countAllCdrs || !source.fetchAllCdrPage) return { use: false, reason: 'the source has no reseller-wide endpoints' };
  if (source.credentialScope?.() === 'domain') return { use: false, reason: 'the API key is domain-scoped (nsd_)' };
  const window = cutWindows(shared, maxWindowDays)[0]!;
  try {
    const total = (await source.countAllCdrs(window, { signal })).total;
    return { use: true, source: source as SharedSource, first: { window, total } };
  } catch (err) {
    if (signal.aborted) throw err;
    if (err instanceof NetSapiensHttpError)
      return { use: false, reason: `GET /cdrs/count answered HTTP ${err.status}${err.serverMessage ? ` (${err.serverMessage})` : ''}` };
    // Anything else (the endpoint timing out on a large reseller, say): the domains' own endpoints may still answer.
    return { use: false, reason: `GET /cdrs/count failed: ${redact(err instanceof Error ? err.message : String(err))}` };
  }
}

export interface SharedRunnerOptions extends Pick<StageContext, 'dataDir' | 'clock' | 'logger'> {
  source: SharedSource;
  settings: IngestSettings;
  /** The run's global limit on requests in flight. */
  limit: LimitFunction;
  spool: PageSpool;
  merger: PartitionMerger;
  events: IngestEvents;
  stop?: AbortSignal;
  requests: AbortSignal;
  /** Every domain of the run: its partition of each month the shared range touches. */
  parts: ReadonlyMap<string, ReadonlyMap<Month, PartitionState>>;
  /**
   * Asked when records name domains the run does not read (its domain list may predate them):
   * the run reads the API's domain list again (once) and takes on those it now lists. Returns the
   * partitions (as in `parts`) of every asked name the run reads; the others are quarantined.
   */
  discover?: (names: readonly string[]) => Promise<ReadonlyMap<string, ReadonlyMap<Month, PartitionState>>>;
  /** Domains with open completeness anomalies (ALL_DOMAINS for reseller-wide ones): a clean window resolves them. */
  openAnomalyDomains: ReadonlySet<string>;
  rejects: RejectRow[];
}

interface SharedTask {
  window: TimeWindow;
  count?: number;
}

interface SharedFetch {
  routed: RoutedWindow;
  /** Every element the list answered (valid, repeated, rejected, quarantined, outside the window). */
  received: number;
  outOfWindow: number;
  rejects: { reason: string; rawText: string }[];
  pages: number;
}

/** Shared windows in flight: their pages wait in memory until the window is complete. */
const MAX_ACTIVE_WINDOWS = 3;
/**
 * Fetched windows whose shares are being spooled, besides those in flight. Spooling a window
 * writes a file per domain it touched (about half a millisecond each: seconds for thousands of
 * domains); the next windows' requests go out meanwhile instead of waiting for it.
 */
const MAX_KEEPING_WINDOWS = 2;

/**
 * Reads the shared range through the reseller-wide `/cdrs`: windows counted and split by the
 * reseller-wide count exactly as a domain's are by its own, pages fetched in waves under the
 * run's request limit, every record routed to its domain's partition by its `domain` field. A
 * window whose answer disagrees with its count is re-fetched once, then is an anomaly of every
 * domain (ALL_DOMAINS): what came is upserted, nothing is deleted, and no watermark passes it.
 */
export class SharedRunner {
  private readonly queue: SharedTask[];
  private readonly domains: Set<string>;
  private readonly parts: Map<string, ReadonlyMap<Month, PartitionState>>;
  /** Windows already handed to every domain's partition (a domain taken on later gets them empty). */
  private readonly handed: { window: TimeWindow; clean: boolean }[] = [];
  /** Shared windows read (the halves of splits included). */
  windows = 0;
  /** Windows in flight when the stop's grace period ran out (left for the next run). */
  private windowsCut = 0;
  /** Fetched windows being spooled and handed to their partitions (keep). */
  private readonly keeping = new Set<Promise<void>>();

  constructor(
    private readonly o: SharedRunnerOptions,
    shared: TimeWindow,
    first: { window: TimeWindow; total: number },
  ) {
    this.parts = new Map(o.parts);
    this.domains = new Set(o.parts.keys());
    this.queue = cutWindows(shared, o.settings.maxWindowDays).map((window) => ({
      window,
      ...(window.start.getTime() === first.window.start.getTime() && window.end.getTime() === first.window.end.getTime()
        ? { count: first.total }
        : {}),
    }));
    o.events.windowsKnown += this.queue.length;
  }

  async run(): Promise<void> {
    const { stop, merger, events } = this.o;
    const active = new Set<Promise<void>>();
    for (;;) {
      await merger.waitForRoom();
      while (!stop?.aborted && active.size < MAX_ACTIVE_WINDOWS) {
        const task = this.queue.shift();
        if (!task) break;
        const p: Promise<void> = this.processWindow(task)
          .catch((err: unknown) => this.failed(task.window, err))
          .finally(() => active.delete(p));
        active.add(p);
      }
      if (active.size === 0) break;
      await Promise.race(active);
    }
    while (this.keeping.size > 0) await Promise.allSettled([...this.keeping]);
    if (stop?.aborted && (this.queue.length > 0 || this.windowsCut > 0)) {
      events.summary.interrupted = true;
      this.queue.length = 0;
    }
  }

  private failed(window: TimeWindow, err: unknown): void {
    // Cut off by the stop: left for the next run, not a failure of the window.
    if (this.o.requests.aborted) this.windowsCut++;
    else this.o.events.fail(ALL_DOMAINS, window, err);
  }

  /**
   * Spools a fetched window's shares (keep) without holding its place among the windows in
   * flight; waits while MAX_KEEPING_WINDOWS others are being spooled, so the pages held in
   * memory stay bounded.
   */
  private async handOver(window: TimeWindow, fetched: SharedFetch, clean: boolean): Promise<void> {
    while (this.keeping.size >= MAX_KEEPING_WINDOWS) await Promise.race(this.keeping);
    const p: Promise<void> = this.keep(window, fetched, clean)
      .catch((err: unknown) => this.failed(window, err))
      .finally(() => this.keeping.delete(p));
    this.keeping.add(p);
  }

  private async countOf(window: TimeWindow): Promise<number> {
    const { limit, source, requests } = this.o;
    return (await limit(() => source.countAllCdrs(window, { signal: requests }))).total;
  }

  private async processWindow({ window, count: known }: SharedTask): Promise<void> {
    const { settings, events, logger } = this.o;
    const { summary } = events;
    const total = known ?? (await this.countOf(window));
    if (!countsPlausible(total)) return this.fetchUntrusted(window, total, `count ${total} is not a whole number of CDRs`);
    const decision = decideWindow(window, total, settings);
    if (decision.kind === 'split') {
      const [a, b] = decision.halves;
      const [ca, cb] = await Promise.all([this.countOf(a), this.countOf(b)]);
      if (!countsPlausible(total, [ca, cb]))
        return this.fetchUntrusted(window, total, `its halves count ${ca} + ${cb}, more than its own ${total}`);
      summary.windowsSplit++;
      events.windowsKnown += 1;
      this.queue.unshift({ window: a, count: ca }, { window: b, count: cb });
      return;
    }
    if (decision.kind === 'empty') {
      summary.windowsEmpty++;
      return this.handOver(window, { routed: emptyRouted(), received: 0, outOfWindow: 0, rejects: [], pages: 0 }, true);
    }
    let fetched = await this.fetch(window, total);
    let expected = total;
    if (fetched.received !== expected) {
      logger.info(
        { domain: ALL_DOMAINS, window: formatWindow(window), expected, got: fetched.received },
        'reseller-wide rows differ from the count; re-fetching the window once',
      );
      summary.refetches++;
      expected = await this.countOf(window);
      fetched = await this.fetch(window, expected);
      if (fetched.received !== expected) {
        await events.anomaly({
          domain: ALL_DOMAINS,
          windowStart: window.start,
          windowEnd: window.end,
          kind: 'count-mismatch',
          expected: Number.isSafeInteger(expected) ? expected : null,
          got: fetched.received,
          detail: `reseller-wide list after one re-fetch: ${fetched.received} record(s) for a count of ${expected}; rows kept, no watermark passes this window`,
        });
      }
    }
    await this.handOver(window, fetched, fetched.received === expected);
  }

  /** A count that cannot be believed: read the list (up to a short page), upsert it, and say so. */
  private async fetchUntrusted(window: TimeWindow, count: number, why: string): Promise<void> {
    const fetched = await this.fetch(window, this.o.settings.rowBudget, false);
    await this.o.events.anomaly({
      domain: ALL_DOMAINS,
      windowStart: window.start,
      windowEnd: window.end,
      kind: 'implausible-count',
      expected: Number.isSafeInteger(count) ? count : null,
      got: fetched.received,
      detail: `${why}; read the reseller-wide list instead (${fetched.pages} page(s)), stored rows kept`,
    });
    await this.handOver(window, fetched, false);
  }

  /**
   * Pages of one window in waves, routed by domain as they arrive. A counted window asks for every
   * page its count promises at once (at most DEFAULT_MAX_WAVE): the few windows of a reseller-wide
   * read are the whole tick, so a first page alone would cost the tick a round trip per window;
   * an inflated count costs at most that wave. Then, and for a count not trusted
   * (`counted: false`), waves follow what the list returns: one page, doubling while pages come
   * back full.
   */
  private async fetch(window: TimeWindow, total: number, counted = true): Promise<SharedFetch> {
    const { source, settings, limit, requests } = this.o;
    const pageSize = settings.pageSize;
    const out: SharedFetch = { routed: emptyRouted(), received: 0, outOfWindow: 0, rejects: [], pages: 0 };
    const fetchOne = async (offset: number): Promise<boolean> => {
      const page = await limit(() => source.fetchAllCdrPage(window, offset, pageSize, { signal: requests }));
      out.pages++;
      out.received += page.received;
      out.outOfWindow += page.outOfWindow;
      out.rejects.push(...page.rejects);
      routePage(page, this.domains, out.routed);
      return page.received >= pageSize;
    };
    const promised = promisedPages(total, pageSize);
    let pagesDone = 0;
    let wave = 0;
    for (;;) {
      wave =
        counted && pagesDone === 0
          ? Math.max(1, Math.min(promised, DEFAULT_MAX_WAVE))
          : nextWave(pagesDone, wave, promised, DEFAULT_MAX_WAVE);
      const offsets = Array.from({ length: wave }, (_, i) => (pagesDone + i) * pageSize);
      const settled = await Promise.allSettled(offsets.map(fetchOne));
      const failed = settled.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      pagesDone += wave;
      if (!settled.every((r) => r.status === 'fulfilled' && r.value)) break;
    }
    return out;
  }

  /** Spools each domain's share of a finished window and hands it to that domain's partition. */
  private async keep(window: TimeWindow, fetched: SharedFetch, clean: boolean): Promise<void> {
    const { spool, merger, events, rejects } = this.o;
    const { summary } = events;
    const month = windowMonth(window);
    this.windows++;
    summary.windows++;
    if (fetched.routed.unlisted.size > 0) await this.adopt(fetched.routed);
    for (const r of fetched.rejects) rejects.push({ domain: ALL_DOMAINS, window, reason: r.reason, rawText: r.rawText });
    for (const r of fetched.routed.quarantined) rejects.push({ domain: ALL_DOMAINS, window, reason: r.reason, rawText: r.rawText });
    summary.rejects += fetched.rejects.length + fetched.routed.quarantined.length;
    summary.outOfWindow += fetched.outOfWindow;
    if (fetched.routed.quarantined.length > 0) {
      await events.anomaly({
        domain: ALL_DOMAINS,
        windowStart: window.start,
        windowEnd: window.end,
        kind: 'unknown-domain',
        expected: null,
        got: fetched.routed.quarantined.length,
        detail: `${fetched.routed.quarantined.length} reseller-wide record(s) named no domain of this run (first: ${redact(fetched.routed.quarantined[0]!.reason)}); quarantined to lake/rejects`,
      });
    }
    if (clean) await this.resolveAnomalies(window);
    // The partitions this window goes to, and the record that it went (in the same step).
    const targets = [...this.parts];
    this.handed.push({ window, clean });
    const spooled = await Promise.all(
      targets.map(async ([domain, byMonth]) => {
        const part = byMonth.get(month);
        if (!part) return undefined;
        const share = fetched.routed.shares.get(domain);
        const ids = share ? [...share.records.keys()] : [];
        const file = share
          ? await spool.writeRecords(
              [...share.records.values()].map((r) => r.bytes),
              share.plain,
            )
          : undefined;
        return { part, ids, file };
      }),
    );
    // Every share is handed over in one turn, so the writer gets the window's partitions as one
    // batch (a few shared statements, one watermark transaction) instead of a batch per spool
    // write that happened to finish first.
    for (const s of spooled) {
      if (!s) continue;
      merger.complete(
        s.part,
        {
          window,
          clean,
          prunable: false,
          files: s.file ? [s.file] : [],
          rows: s.ids.length,
          idHashes: idHashesOf(s.ids, s.ids.length),
          // Repeats were resolved while routing (the later page's copy is kept): the file holds each id once.
          duplicateIds: [],
        },
        { countWindow: false },
      );
    }
  }

  /**
   * Records of domains the run did not know: the run's domain list is read again (once per run)
   * and the domains it now lists join the run (their partitions get the windows handed out before
   * as empty ones: they had no records there, or those windows would have asked); what is still
   * unknown is quarantined.
   */
  private async adopt(routed: RoutedWindow): Promise<void> {
    const { merger } = this.o;
    const names = [...routed.unlisted.keys()];
    const found = this.o.discover ? await this.o.discover(names) : new Map<string, ReadonlyMap<Month, PartitionState>>();
    for (const [name, share] of routed.unlisted) {
      const byMonth = found.get(name);
      if (byMonth && !this.parts.has(name)) {
        this.parts.set(name, byMonth);
        this.domains.add(name);
        for (const { window, clean } of this.handed) {
          const part = byMonth.get(windowMonth(window));
          if (part) merger.complete(part, emptyDone(window, clean), { countWindow: false });
        }
      }
      if (this.parts.has(name)) {
        routed.shares.set(name, share);
        continue;
      }
      const reason = unroutableReason(name, this.domains)!;
      for (const r of share.records.values()) routed.quarantined.push({ domain: ALL_DOMAINS, reason, rawText: r.bytes.toString('utf8') });
    }
    routed.unlisted.clear();
  }

  private async resolveAnomalies(window: TimeWindow): Promise<void> {
    const { openAnomalyDomains, dataDir, clock } = this.o;
    const open = [...openAnomalyDomains].filter((d) => d === ALL_DOMAINS || this.domains.has(d));
    if (open.length === 0) return;
    await withState(dataDir, async (db) => {
      for (const d of open) await resolveAnomaliesWithin(db, d, window.start, window.end, clock.now());
    });
  }
}

/** A window with no records for one domain (its partition is complete through it all the same). */
function emptyDone(window: TimeWindow, clean: boolean): DoneWindow {
  return { window, clean, prunable: false, files: [], rows: 0, idHashes: new Float64Array(0), duplicateIds: [] };
}
