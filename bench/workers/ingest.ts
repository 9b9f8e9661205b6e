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
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { sqlString, withDb } from '../../pipeline/db/duckdb.ts';
import { cdrsGlob } from '../../pipeline/lake/layout.ts';
import { domainPath, NetSapiensClient, windowQuery } from '../../pipeline/source/netsapiens-client.ts';
import type { PlannedRequest } from '../lib/request-bound.ts';
import type { IngestSummary } from '../../pipeline/extract/ingest-summary.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { advanceWatermarkRow, withState, writeDomainList } from '../../pipeline/state/index.ts';
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

/** The bare write of a tick's partitions: the same rows, one DuckDB COPY ... PARTITION_BY, each file fsynced and renamed. */
export interface BareWriteParams {
  /** A data directory whose lake holds the tick's rows. */
  dataDir: string;
  /** Where to write (emptied first). */
  outDir: string;
}

export interface BareWriteResult {
  /** COPY to staging plus every file's fsync and rename. */
  wallMs: number;
  copyMs: number;
  partitions: number;
  rows: number;
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

function client(url: string, concurrency: number, apiKey = 'bench-key', fetchFn?: typeof fetch): NetSapiensClient {
  return NetSapiensClient.create({
    baseUrl: url,
    auth: { kind: 'api-key', apiKey },
    maxConcurrentRequests: concurrency,
    logger: silentLogger(),
    ...(fetchFn ? { fetch: fetchFn } : {}),
  });
}

/** The global fetch, calling `onAnswered` when a response's body has been read whole (or its request failed). */
function answeredFetch(onAnswered: () => void): typeof fetch {
  return async (input, init) => {
    let res: Response;
    try {
      res = await fetch(input, init);
    } catch (err) {
      onAnswered();
      throw err;
    }
    const { arrayBuffer, text } = { arrayBuffer: res.arrayBuffer.bind(res), text: res.text.bind(res) };
    return Object.assign(res, {
      arrayBuffer: () => arrayBuffer().finally(onAnswered),
      text: () => text().finally(onAnswered),
    });
  };
}

/** What one timed run of the ingest needs besides its options: where, against which API, when, how wide. */
interface TimedRun {
  url: string;
  dataDir: string;
  now: Date;
  concurrency: number;
  apiKey?: string;
  /** The client's fetch (default: the global one). */
  fetch?: typeof fetch;
}

/**
 * One runIngest in this process, timed without module loading, with the bench's config
 * (`ingest.concurrency` = the run's) and a silent logger. `extra` adds the backfill range or
 * domains; `p.fetch` lets a tick note when its last request was answered (against the returned
 * `t0`, when the timing started).
 */
async function timedIngest(
  p: TimedRun,
  extra: Pick<IngestOptions, 'from' | 'to' | 'domains'>,
): Promise<{ result: IngestResult; t0: number }> {
  const base = await loadConfig();
  const config = { ...base, ingest: { ...base.ingest, concurrency: p.concurrency } };
  const source = client(p.url, p.concurrency, p.apiKey, p.fetch);
  const t0 = performance.now();
  const summary = await runIngest({
    dataDir: p.dataDir,
    config,
    source,
    clock: new FixedClock(p.now),
    logger: silentLogger(),
    concurrency: p.concurrency,
    ...extra,
  });
  const wallMs = performance.now() - t0;
  return { t0, result: { wallMs, summary, peakRssBytes: await peakRssBytes() } };
}

serveWorker({
  ingest: async (p: IngestParams): Promise<IngestResult> => {
    const { result } = await timedIngest(p, { from: p.from, to: p.to, ...(p.domains ? { domains: p.domains } : {}) });
    return result;
  },
  /**
   * Seeds what the previous tick left (not timed): every domain's watermark, and the domain list
   * it stored, fetched a tick ago. Then runs one incremental tick (timed).
   */
  tick: async (p: TickParams): Promise<IngestResult> => {
    await withState(p.dataDir, async (db) => {
      for (const d of p.domains) await advanceWatermarkRow(db, d, p.watermark, p.now);
      await writeDomainList(db, p.domains, new Date(p.now.getTime() - 15 * 60_000));
    });
    // When the last response body had been read whole: the end of the API part of the tick (the
    // routing, spooling and lake writes of what came go on after it).
    let lastAnsweredAt = 0;
    const { t0, result } = await timedIngest({ ...p, fetch: answeredFetch(() => (lastAnsweredAt = performance.now())) }, {});
    return { ...result, fetchMs: lastAnsweredAt - t0 };
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
  /**
   * What writing a tick's partitions costs on this machine without the pipeline: the tick's rows
   * (read from its lake beforehand, not timed) written by one COPY ... PARTITION_BY (domain) to a
   * staging folder, then every file fsynced and renamed into its own folder, 16 at a time, as
   * the lake publishes. No de-duplication, no comparison with stored files, no watermarks.
   */
  bareWrite: async (p: BareWriteParams): Promise<BareWriteResult> => {
    await rm(p.outDir, { recursive: true, force: true });
    const staging = join(p.outDir, 'staging');
    const published = join(p.outDir, 'published');
    await mkdir(published, { recursive: true });
    return withDb(':memory:', async (db) => {
      await db.run(`CREATE TABLE t AS SELECT * FROM read_parquet(${sqlString(cdrsGlob(p.dataDir))}, hive_partitioning = true)`);
      const rows = Number((await db.all<{ n: string }>(`SELECT count(*)::BIGINT AS n FROM t`))[0]!.n);
      const t0 = performance.now();
      await db.run(
        `COPY (SELECT * EXCLUDE (month) FROM t ORDER BY domain) TO ${sqlString(staging)} (FORMAT parquet, PARTITION_BY (domain), COMPRESSION zstd, COMPRESSION_LEVEL 1)`,
      );
      const copyMs = performance.now() - t0;
      const files = (await readdir(staging, { recursive: true })).filter((f) => f.endsWith('.parquet'));
      const limit = pLimit(16);
      await Promise.all(
        files.map((f, i) =>
          limit(async () => {
            const from = join(staging, f);
            const handle = await open(from, 'r');
            await handle.sync();
            await handle.close();
            const dir = join(published, String(i));
            await mkdir(dir);
            await rename(from, join(dir, 'data.parquet'));
            const d = await open(dir, 'r');
            await d.sync();
            await d.close();
          }),
        ),
      );
      return { wallMs: performance.now() - t0, copyMs, partitions: files.length, rows };
    });
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
