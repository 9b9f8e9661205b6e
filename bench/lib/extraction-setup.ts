import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FaultOptions } from '../../pipeline/simulator/index.ts';
import type {
  FloorParams,
  FloorResult,
  IngestParams,
  IngestResult,
  PullerParams,
  PullerResult,
  StageParams,
  StageResult,
} from '../workers/ingest.ts';
import type { PlannedRequest } from './request-bound.ts';
import type { SimStartParams, SimTotals } from '../workers/simulator.ts';
import type { BenchContext } from './types.ts';
import { startWorker, type WorkerHandle } from './worker.ts';

/** The month every extraction scenario reads: fixed, so runs on different days compare. */
export const BENCH_MONTH = '2026-10';
export const MONTH_FROM = new Date('2026-10-01T00:00:00Z');
export const MONTH_TO = new Date('2026-11-01T00:00:00Z');
/** The simulator's and the ingest's "now": every October call has ended and settled. */
export const BENCH_NOW = new Date('2026-11-03T00:00:00Z');
export const BENCH_SEED = 7;

/** A simulator process serving about `targetRows` CDRs over BENCH_MONTH for `domains` domains. */
export interface ExtractionSim {
  worker: WorkerHandle;
  url: string;
  domains: string[];
  volume: number;
  totals: SimTotals;
  stop(): Promise<void>;
}

/**
 * Starts the simulator in its own process and sizes its volume so the month holds about
 * `targetRows` CDRs (generation is linear in volume, so one calibration at volume 1 suffices).
 */
export async function startExtractionSim(
  ctx: BenchContext,
  opts: { domains: number; targetRows: number; faults?: FaultOptions },
): Promise<ExtractionSim> {
  const worker = await startWorker('simulator', { signal: ctx.signal });
  try {
    const base: SimStartParams = {
      seed: BENCH_SEED,
      domains: opts.domains,
      volume: 1,
      dataFrom: MONTH_FROM,
      dataTo: MONTH_TO,
      now: BENCH_NOW,
    };
    await worker.call('start', base);
    const unit = await worker.call<SimTotals>('totals', { month: BENCH_MONTH });
    const volume = Math.max(0.01, Math.round((opts.targetRows / Math.max(1, unit.total)) * 1000) / 1000);
    const started = await worker.call<{ url: string; domains: string[] }>('start', {
      ...base,
      volume,
      ...(opts.faults ? { faults: opts.faults } : {}),
    });
    const totals = await worker.call<SimTotals>('totals', { month: BENCH_MONTH });
    ctx.log(`simulator: ${opts.domains} domains, volume ${volume}, ${totals.total.toLocaleString('en-US')} CDRs in ${BENCH_MONTH}`);
    return {
      worker,
      url: started.url,
      domains: started.domains,
      volume,
      totals,
      stop: async () => {
        await worker.call('stop').catch(() => undefined);
        await worker.close();
      },
    };
  } catch (err) {
    await worker.close();
    throw err;
  }
}

/** One backfill of BENCH_MONTH into a fresh data directory, in a fresh process. */
export async function ingestOnce(
  ctx: BenchContext,
  p: { url: string; dataDir: string; concurrency: number; domains?: string[]; window?: { from: Date; to: Date }; keepLake?: boolean },
): Promise<IngestResult> {
  if (!p.keepLake) await rm(p.dataDir, { recursive: true, force: true });
  const worker = await startWorker('ingest', { signal: ctx.signal });
  try {
    const params: IngestParams = {
      url: p.url,
      dataDir: p.dataDir,
      from: p.window?.from ?? MONTH_FROM,
      to: p.window?.to ?? MONTH_TO,
      now: BENCH_NOW,
      concurrency: p.concurrency,
      ...(p.domains ? { domains: p.domains } : {}),
    };
    return await worker.call<IngestResult>('ingest', params);
  } finally {
    await worker.close();
  }
}

/** One later stage (transform, report --dry-run, reconcile) over an existing lake, in a fresh process. */
export async function stageOnce(ctx: BenchContext, p: Omit<StageParams, 'now' | 'month'>): Promise<StageResult> {
  const worker = await startWorker('ingest', { signal: ctx.signal });
  try {
    return await worker.call<StageResult>('stage', { ...p, now: BENCH_NOW, month: BENCH_MONTH });
  } finally {
    await worker.close();
  }
}

/** The extraction floor (the minimum requests, bodies read and discarded), in a fresh process. */
export async function floorOnce(
  ctx: BenchContext,
  p: { url: string; plan: PlannedRequest[]; concurrency: number; pageSize: number },
): Promise<FloorResult> {
  const worker = await startWorker('ingest', { signal: ctx.signal });
  try {
    const params: FloorParams = { url: p.url, plan: p.plan, concurrency: p.concurrency, pageSize: p.pageSize };
    return await worker.call<FloorResult>('floor', params);
  } finally {
    await worker.close();
  }
}

/** The public-puller baseline over `domains`, in a fresh process. */
export async function pullOnce(ctx: BenchContext, p: { url: string; domains: string[] }): Promise<PullerResult> {
  const worker = await startWorker('ingest', { signal: ctx.signal });
  try {
    const params: PullerParams = { url: p.url, domains: p.domains, from: MONTH_FROM, to: MONTH_TO };
    return await worker.call<PullerResult>('puller', params);
  } finally {
    await worker.close();
  }
}

export const dataDirFor = (ctx: BenchContext, name: string) => join(ctx.workDir, name);
