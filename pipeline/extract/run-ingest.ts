import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import pLimit, { type LimitFunction } from 'p-limit';
import { LakeWriter, type RejectRow, encodePartitionValue } from '../lake/index.ts';
import type { CdrSource, TimeWindow } from '../source/index.ts';
import type { Month } from '../util/month.ts';
import { dropDomainList, openAnomalyDomainsOf, pullBackWatermarks, readDomainList, readWatermarks, withState } from '../state/index.ts';
import type { Logger } from '../util/logger.ts';
import { redact } from '../util/errors.ts';
import { abortAfterGrace, DEFAULT_ABORT_GRACE_MS } from './abort-grace.ts';
import { FairQueue } from './fair-queue.ts';
import { IngestEvents } from './ingest-events.ts';
import { checkConcurrency, emptySummary, planDomain, planRange, requestsSince, type DomainPlan, type IngestRange } from './ingest-plan.ts';
import type { DomainState, PartitionState, WindowTask } from './ingest-state.ts';
import { IngestIncompleteError, type IngestProgress, type IngestSummary } from './ingest-summary.ts';
import { PartitionMerger } from './partition-merge.ts';
import { planSharedDomain, sharedRange } from './reseller-plan.ts';
import { decideShared, SharedRunner, type SharedDecision } from './reseller-runner.ts';
import { PageSpool } from './spool.ts';
import { HeapGarbage } from '../util/heap-garbage.ts';
import { DomainLists, domainListRefreshReason } from './domain-list.ts';
import { formatWindow } from './windows.ts';
import { WindowRunner } from './window-runner.ts';
import { acquireIngestLock, cleanStaleWorkDirs, createWorkDir, removeWorkDir } from './work-dir.ts';
import { resourceBudget, type StageContext } from '../config/index.ts';

export interface IngestOptions extends StageContext {
  source: CdrSource;
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
  /** DuckDB memory cap of the lake writer (it spills beyond it). Default: from `resources.memoryMiB`. */
  writerMemoryLimit?: string;
  /**
   * Remove stored rows the API no longer lists, in windows whose answer matched its count and a
   * second count confirmed it; they move to lake/removed/. Without it nothing stored is removed.
   */
  prune?: boolean;
}

const DEFAULT_FLUSH_ROWS = 500_000;

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
  const budget = resourceBudget(opts.config.resources.memoryMiB);
  const wanted = checkConcurrency(opts.concurrency ?? settings.concurrency);
  // Each request in flight holds a page body and its parse: the memory budget caps them.
  const concurrency = Math.min(wanted, budget.maxRequestsInFlight);
  if (concurrency < wanted) {
    logger.warn(
      { concurrency: wanted, memoryMiB: budget.memoryMiB, maxRequestsInFlight: budget.maxRequestsInFlight },
      'requests in flight capped by the memory budget (raise resources.memoryMiB for more)',
    );
  }
  const now = clock.now();
  const range = planRange({ from: opts.from, to: opts.to, now, settleMinutes: settings.settleMinutes });
  if (range.clampedFrom && range.to) {
    logger.warn(
      { requestedTo: range.clampedFrom.toISOString(), to: range.to.toISOString(), settleMinutes: settings.settleMinutes },
      'ingest range clamped to now minus the settle time',
    );
  }

  const t0 = performance.now();
  const runId = opts.runId ?? randomUUID();
  const stats0 = source.stats();
  const summary = emptySummary(runId, range, opts.prune === true);
  const events = new IngestEvents({ summary, dataDir, source, stats0, clock, logger, onProgress: opts.onProgress });

  const releaseLock = await acquireIngestLock(dataDir);
  // Every request of the run carries this: it aborts a short grace period after a stop.
  const requests = abortAfterGrace(opts.signal, opts.abortGraceMs ?? DEFAULT_ABORT_GRACE_MS);
  try {
    await ingestLocked({ opts, range, now, runId, concurrency, events, requests: requests.signal });
    // Still under the lock: the summary is final before another run may start.
    Object.assign(summary, requestsSince(stats0, source.stats()));
    summary.rows = summary.rowsWritten;
    summary.elapsedMs = Math.round(performance.now() - t0);
    events.progress('done');
    logger.info({ ...summary, anomalies: summary.anomalies.length, failures: summary.failures.length }, 'ingest finished');
    if (summary.failures.length > 0 || summary.anomalies.length > 0) throw new IngestIncompleteError(summary);
    return summary;
  } finally {
    requests.dispose();
    await releaseLock();
  }
}

interface LockedRun {
  opts: IngestOptions;
  range: IngestRange;
  now: Date;
  runId: string;
  concurrency: number;
  events: IngestEvents;
  requests: AbortSignal;
}

interface SharedRead {
  range: TimeWindow;
  decision: SharedDecision;
  /** Domains that read an older part of their range alone. */
  readAlone: number;
}

/**
 * Whether an incremental run reads its shared range through the reseller-wide `/cdrs` (decided
 * once per run; a probe count when the key's prefix does not already say no). Undefined when
 * there is nothing to read.
 */
async function chooseSharedRead(
  r: LockedRun,
  domains: readonly string[],
  watermarks: ReadonlyMap<string, Date>,
  limit: LimitFunction,
): Promise<SharedRead | undefined> {
  const { opts, now, requests } = r;
  const settings = opts.config.ingest;
  const range = sharedRange(
    domains.map((d) => watermarks.get(d)),
    now,
    settings,
  );
  if (!range) return undefined;
  const refusal = opts.prune
    ? "--prune confirms each domain's own count"
    : opts.domains && opts.domains.length > 0
      ? '--domain selects domains'
      : domains.length < 2
        ? 'one domain'
        : undefined;
  const decision: SharedDecision =
    refusal !== undefined
      ? { use: false, reason: refusal }
      : await limit(() => decideShared(opts.source, range, settings.maxWindowDays, requests));
  if (decision.use) opts.logger.info({ range: formatWindow(range), domains: domains.length }, 'reading the reseller-wide /cdrs');
  else opts.logger.info({ reason: decision.reason }, 'reading per domain: reseller-wide /cdrs not used');
  return { range, decision, readAlone: 0 };
}

/** Whether a domain can name a lake partition; "." and ".." cannot: reported, but not a failure of every run. */
function usableDomain(domain: string, summary: IngestSummary, logger: Logger): boolean {
  try {
    encodePartitionValue(domain);
    return true;
  } catch (err) {
    const reason = redact(err instanceof Error ? err.message : String(err));
    summary.skippedDomains.push({ domain, reason });
    logger.warn({ domain, reason }, 'domain skipped');
    return false;
  }
}

/** Everything that runs under the ingest lock: work dir, domains, windows, merges, rejects. */
async function ingestLocked(r: LockedRun): Promise<void> {
  const { opts, range, events, requests } = r;
  const { dataDir, source, clock, logger } = opts;
  const { summary } = events;
  const settings = opts.config.ingest;
  await cleanStaleWorkDirs(dataDir);
  const workDir = await createWorkDir(dataDir, r.runId);
  const budget = resourceBudget(opts.config.resources.memoryMiB);
  // The writer's database opens while the run reads state and asks its first questions: nothing
  // is written before the first window completes.
  const opening = LakeWriter.open(dataDir, {
    workDir: join(workDir, 'writer'),
    memoryLimit: opts.writerMemoryLimit ?? `${budget.writerDuckdbMiB}MiB`,
    lanes: budget.writerLanes,
    logger,
  });
  opening.catch(() => undefined);
  let writer: LakeWriter | undefined;
  let merger: PartitionMerger | undefined;
  // Page bodies are garbage once spooled; V8 would let them pile up in step with the run's size.
  const garbage = new HeapGarbage(budget.ingestGarbageMiB * 2 ** 20);
  const limit = pLimit(r.concurrency);
  const rejects: RejectRow[] = [];
  const queue = new FairQueue<WindowTask>();
  const domainStates: DomainState[] = [];
  try {
    const spool = await PageSpool.create(join(workDir, 'spool'), { garbage });
    events.progress('domains');
    // A backfill reads the current list whatever state holds: its request is in flight while the state is read.
    const early = range.backfill ? new DomainLists(opts, limit, requests, undefined) : undefined;
    const earlyNames = early?.names();
    earlyNames?.catch(() => undefined);
    const [stored, pulledBack, watermarks, openAnomalyDomains] = await withState(
      dataDir,
      async (db) =>
        [
          await readDomainList(db),
          await pullBackWatermarks(db, range.settledEnd, clock.now()),
          await readWatermarks(db),
          await openAnomalyDomainsOf(db),
        ] as const,
    );
    if (pulledBack.length > 0)
      logger.warn({ domains: pulledBack, to: range.settledEnd.toISOString() }, 'watermarks past now minus the settle time pulled back');
    const refresh = domainListRefreshReason(stored, clock.now(), {
      maxAgeMinutes: settings.domainListMaxAgeMinutes,
      backfill: range.backfill,
    });
    const list = early ?? new DomainLists(opts, limit, requests, refresh === undefined ? stored : undefined);
    const listedNames = await (earlyNames ?? list.names());
    summary.domainList =
      refresh === undefined ? { source: 'stored', fetchedAt: stored!.fetchedAt.toISOString() } : { ...list.use!, reason: refresh };
    const names = [...new Set(opts.domains && opts.domains.length > 0 ? opts.domains : listedNames)];
    const known = new Set(listedNames);
    for (const n of names) if (!known.has(n)) logger.warn({ domain: n }, 'domain is not in the API domain list; ingesting it anyway');

    const usable = names.filter((d) => usableDomain(d, summary, logger));
    const shared = range.backfill ? undefined : await chooseSharedRead(r, usable, watermarks, limit);
    writer = await opening;
    // The list is stored (lake/domains, state) while the windows are fetched; a failure still fails the run (awaited below).
    const listStored = list.store(writer);
    listStored.catch(() => undefined);
    const m = new PartitionMerger({
      dataDir,
      writer,
      spool,
      events,
      clock,
      logger,
      settledEnd: range.settledEnd,
      flushRows: opts.flushRows ?? DEFAULT_FLUSH_ROWS,
      garbage,
    });
    merger = m;
    const sharedParts = new Map<string, Map<Month, PartitionState>>();
    /** Plans one domain into the run; its own windows go to `into`. */
    const plan = (domain: string, into: FairQueue<WindowTask>): DomainPlan => {
      let p: DomainPlan;
      if (shared?.decision.use) {
        const own = planSharedDomain(domain, watermarks.get(domain), r.now, settings, shared.range);
        sharedParts.set(domain, own.sharedParts);
        if (own.ownPrefix) shared.readAlone++;
        p = own;
      } else p = planDomain(domain, watermarks.get(domain), range, r.now, settings);
      domainStates.push(p.dom);
      summary.domains++;
      m.track(p.partitions);
      for (const task of p.tasks) into.push(domain, task);
      events.windowsKnown += p.tasks.length;
      return p;
    };
    for (const domain of usable) plan(domain, queue);

    // Domains a reseller-wide record names that the run's list lacked: read the list again (once),
    // and take on those it now lists. Their older range is read per domain after the shared read.
    const late = new FairQueue<WindowTask>();
    const discover = async (asked: readonly string[]): Promise<Map<string, Map<Month, PartitionState>>> => {
      const fresh = new Set(await list.refreshed(writer!));
      if (summary.domainList?.source === 'stored' && list.use)
        summary.domainList = { ...list.use, reason: 'a reseller-wide record named a domain the stored list lacks' };
      const out = new Map<string, Map<Month, PartitionState>>();
      for (const name of asked) {
        if (!sharedParts.has(name) && fresh.has(name) && usableDomain(name, summary, logger)) {
          logger.info({ domain: name }, 'a reseller-wide record names a domain the stored list lacked; reading it from now on');
          plan(name, late);
        }
        const parts = sharedParts.get(name);
        if (parts) out.set(name, parts);
      }
      return out;
    };

    // What both runners share: the same spool, merger, limits and request counter.
    const common = {
      dataDir,
      settings,
      limit,
      spool,
      merger,
      events,
      clock,
      logger,
      stop: opts.signal,
      requests,
      openAnomalyDomains,
      rejects,
    };
    const own = { ...common, source, concurrency: r.concurrency, prune: opts.prune === true };
    const runner = new WindowRunner(own, queue);
    const sharedRunner = shared?.decision.use
      ? new SharedRunner({ ...common, source: shared.decision.source, parts: sharedParts, discover }, shared.range, shared.decision.first)
      : undefined;
    await Promise.all([runner.run(), sharedRunner?.run()]);
    if (late.size > 0) await new WindowRunner(own, late).run();
    // Every page is spooled: what the fetching left in V8 is garbage, and the last writes start now.
    garbage.collect();
    await listStored;
    if (shared) {
      summary.resellerWide = {
        used: shared.decision.use,
        ...(shared.decision.use ? {} : { reason: shared.decision.reason }),
        windows: sharedRunner?.windows ?? 0,
        domainsReadAlone: shared.readAlone,
      };
    }
  } finally {
    // Whatever completed contiguously is merged, also after a failure or an abort.
    await merger?.finish();
    writer ??= await opening.catch(() => undefined);
    if (writer) {
      try {
        const stored = await writer.writeRejects(rejects, r.runId, clock.now());
        if (stored.path) summary.rejectsFile = stored.path;
        summary.rejectsNew = stored.added;
      } catch (err) {
        events.fail('(rejects)', undefined, err);
      }
      await writer.close();
    }
    await removeWorkDir(workDir);
    logger.debug({ collections: garbage.collections, cpuMs: Math.round(garbage.collectCpuMs) }, 'full heap collections after page garbage');
  }
  // A domain that no longer answers as listed (removed, renamed) makes the next run ask for the list.
  if (summary.failures.length > 0 && summary.domainList?.source === 'stored') await withState(dataDir, dropDomainList);
  for (const d of domainStates) if (d.watermark) summary.watermarks[d.domain] = d.watermark.toISOString();
}
