/**
 * One ingest (or one public-puller baseline) in its own process: timings exclude module loading,
 * and the process's peak RSS is the ingest's alone (the simulator lives in another process).
 */
import { loadConfig } from '../../pipeline/config/load-config.ts';
import { runIngest, type IngestOptions } from '../../pipeline/extract/run-ingest.ts';
import { runReports } from '../../pipeline/report/run-reports.ts';
import { runReconcile } from '../../pipeline/transform/reconcile.ts';
import { runTransform } from '../../pipeline/transform/run-transform.ts';
import pLimit from 'p-limit';
import { domainPath, NetSapiensClient, windowQuery } from '../../pipeline/source/netsapiens-client.ts';
import type { PlannedRequest } from '../lib/request-bound.ts';
import type { IngestSummary } from '../../pipeline/extract/ingest-summary.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { advanceWatermarkRow, withState } from '../../pipeline/state/index.ts';
import { peakRssBytes, serveWorker } from '../lib/worker.ts';

export interface IngestParams {
  url: string;
  dataDir: string;
  from: Date;
  to: Date;
  now: Date;
  concurrency: number;
  domains?: string[];
}

export interface IngestResult {
  wallMs: number;
  /** Ticks: from the start until the last request had been answered (the writes of the last partitions excluded). */
  fetchMs?: number;
  summary: IngestSummary;
  peakRssBytes: number;
}

export interface PullerParams {
  url: string;
  from: Date;
  to: Date;
  domains: string[];
}

export interface StageParams {
  stage: 'transform' | 'report' | 'reconcile';
  dataDir: string;
  month: string;
  now: Date;
  /** reconcile: the API to count against. */
  url?: string;
}

export interface StageResult {
  wallMs: number;
  peakRssBytes: number;
}

export interface FloorParams {
  url: string;
  plan: PlannedRequest[];
  concurrency: number;
  pageSize: number;
}

export interface FloorResult {
  wallMs: number;
  requests: number;
  bytes: number;
}

export interface PullerResult {
  wallMs: number;
  rows: number;
  requests: number;
}

/** One incremental tick over a data directory whose watermarks are all at `watermark`. */
export interface TickParams {
  url: string;
  dataDir: string;
  now: Date;
  concurrency: number;
  /** `nsr_…` lets the tick read reseller-wide; `nsd_…` keeps it per domain. */
  apiKey: string;
  domains: string[];
  watermark: Date;
}

function client(url: string, concurrency: number, apiKey = 'bench-key'): NetSapiensClient {
  return NetSapiensClient.create({
    baseUrl: url,
    auth: { kind: 'api-key', apiKey },
    maxConcurrentRequests: concurrency,
    logger: silentLogger(),
  });
}

/** What one timed run of the ingest needs besides its options: where, against which API, when, how wide. */
interface TimedRun {
  url: string;
  dataDir: string;
  now: Date;
  concurrency: number;
  apiKey?: string;
}

/**
 * One runIngest in this process, timed without module loading, with the bench's config
 * (`ingest.concurrency` = the run's) and a silent logger. `extra` adds the backfill range or
 * domains; `onProgress` sees the client, so a tick can note when its last request was answered
 * (against the returned `t0`, when the timing started).
 */
async function timedIngest(
  p: TimedRun,
  extra: Pick<IngestOptions, 'from' | 'to' | 'domains'>,
  onProgress?: (source: NetSapiensClient) => void,
): Promise<{ result: IngestResult; t0: number }> {
  const base = await loadConfig();
  const config = { ...base, ingest: { ...base.ingest, concurrency: p.concurrency } };
  const source = client(p.url, p.concurrency, p.apiKey);
  const t0 = performance.now();
  const summary = await runIngest({
    dataDir: p.dataDir,
    config,
    source,
    clock: new FixedClock(p.now),
    logger: silentLogger(),
    concurrency: p.concurrency,
    ...extra,
    ...(onProgress ? { onProgress: () => onProgress(source) } : {}),
  });
  const wallMs = performance.now() - t0;
  return { t0, result: { wallMs, summary, peakRssBytes: await peakRssBytes() } };
}

serveWorker({
  ingest: async (p: IngestParams): Promise<IngestResult> => {
    const { result } = await timedIngest(p, { from: p.from, to: p.to, ...(p.domains ? { domains: p.domains } : {}) });
    return result;
  },
  /** Seeds every domain's watermark (not timed), then runs one incremental tick (timed). */
  tick: async (p: TickParams): Promise<IngestResult> => {
    await withState(p.dataDir, async (db) => {
      for (const d of p.domains) await advanceWatermarkRow(db, d, p.watermark, p.now);
    });
    // When the request count last grew: the end of the API part of the tick (the lake writes go on after it).
    let lastRequestAt = 0;
    let requests = 0;
    const { t0, result } = await timedIngest(p, {}, (source) => {
      if (source.stats().requests > requests) {
        requests = source.stats().requests;
        lastRequestAt = performance.now();
      }
    });
    return { ...result, fetchMs: lastRequestAt - t0 };
  },
  /**
   * How public NetSapiens pullers read CDRs: one request at a time, fixed daily windows, pages
   * of 1000 until a short one. Rows are only counted, not stored, so this baseline is if
   * anything faster than the real thing.
   */
  puller: async (p: PullerParams): Promise<PullerResult> => {
    const source = client(p.url, 1);
    const before = source.stats().requests;
    const t0 = performance.now();
    let rows = 0;
    for (const domain of p.domains) {
      for (let day = p.from.getTime(); day < p.to.getTime(); day += 86_400_000) {
        const window = { start: new Date(day), end: new Date(Math.min(day + 86_400_000, p.to.getTime())) };
        for await (const page of source.listCdrs(domain, window, { pageSize: 1000 })) rows += page.received;
      }
    }
    return { wallMs: performance.now() - t0, rows, requests: source.stats().requests - before };
  },
  /**
   * The floor any client pays against this server on this machine: exactly the minimum set of
   * requests, `concurrency` in flight, each body read whole and thrown away (no parsing, no
   * spool, no lake). Plain fetch with keep-alive, as the pipeline's client uses.
   */
  floor: async (p: FloorParams): Promise<FloorResult> => {
    const limit = pLimit(p.concurrency);
    const base = p.url.replace(/\/$/, '');
    let bytes = 0;
    const t0 = performance.now();
    await Promise.all(
      p.plan.map((r) =>
        limit(async () => {
          const window = { start: new Date(r.start), end: new Date(r.end) };
          const query = new URLSearchParams(
            r.kind === 'count' ? windowQuery(window) : { ...windowQuery(window), start: String(r.offset ?? 0), limit: String(p.pageSize) },
          );
          const path = `${domainPath(r.domain)}/cdrs${r.kind === 'count' ? '/count' : ''}`;
          const res = await fetch(`${base}${path}?${query}`, {
            headers: { accept: 'application/json', authorization: 'Bearer bench-key' },
          });
          const body = await res.arrayBuffer();
          if (!res.ok) throw new Error(`floor request ${path} answered ${res.status}`);
          bytes += body.byteLength;
        }),
      ),
    );
    return { wallMs: performance.now() - t0, requests: p.plan.length, bytes };
  },
  /** One later stage over an existing lake, alone in this process (its peak RSS is the stage's). */
  stage: async (p: StageParams): Promise<StageResult> => {
    const config = await loadConfig();
    const ctx = { dataDir: p.dataDir, config, clock: new FixedClock(p.now), logger: silentLogger() };
    const t0 = performance.now();
    if (p.stage === 'transform') await runTransform(ctx);
    else if (p.stage === 'report')
      await runReports({
        ...ctx,
        env: { smtpUrl: undefined, mailFrom: 'reports@bench.example' },
        month: p.month,
        send: false,
        dryRun: true,
      });
    else await runReconcile({ ...ctx, source: client(p.url!, 4), month: p.month });
    return { wallMs: performance.now() - t0, peakRssBytes: await peakRssBytes() };
  },
  peakRss: async () => peakRssBytes(),
});
