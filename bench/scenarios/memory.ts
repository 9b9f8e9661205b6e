import { dataDirFor, ingestOnce, MONTH_TO, stageOnce, startExtractionSim } from '../lib/extraction-setup.ts';
import { lakeCensus } from '../lib/lake-check.ts';
import { requireFiles } from '../lib/stage.ts';
import { median } from '../lib/stats.ts';
import { checkRow, info, limitRow, ratioRow } from '../lib/targets.ts';
import type { BenchContext, BenchRow, Scenario } from '../lib/types.ts';
import { domainsFor, notes, reducedNote, sizeOf, type SizeSpec } from '../lib/sizes.ts';

/** Full size: 0.5M and 2M CDRs (2.5M and 10M with --scale 5); both sizes over the same domains. */
export const MEMORY_SMALL: SizeSpec = { full: 500_000, reduced: 25_000 };
export const MEMORY_LARGE: SizeSpec = { full: 2_000_000, reduced: 100_000 };
export const MEMORY_DEFAULTS = { concurrency: 8 } as const;

const NAME = 'memory';
const MiB = 2 ** 20;

interface SizeResult {
  rows: number;
  truth: number;
  peaks: number[];
  walls: number[];
  /** What `after` measured on the last run's lake. */
  after?: Record<string, number[]>;
}

/** Backfills one simulated month of `targetRows` CDRs, each run in a fresh process; returns peak RSS per run. */
async function measureSize(
  ctx: BenchContext,
  targetRows: number,
  domains: number,
  label: string,
  after?: (url: string, dataDir: string) => Promise<Record<string, number[]>>,
): Promise<SizeResult> {
  const sim = await startExtractionSim(ctx, { domains, targetRows });
  try {
    const dataDir = dataDirFor(ctx, `lake-memory-${label}`);
    const peaks: number[] = [];
    const walls: number[] = [];
    for (let run = -1; run < ctx.runs; run++) {
      const r = await ingestOnce(ctx, { url: sim.url, dataDir, concurrency: MEMORY_DEFAULTS.concurrency });
      ctx.log(
        `${label} ${run < 0 ? 'warm-up' : `run ${run + 1}/${ctx.runs}`}: peak RSS ${(r.peakRssBytes / MiB).toFixed(0)} MiB, ${r.summary.rowsFetched} rows in ${r.wallMs.toFixed(0)} ms`,
      );
      if (run < 0) continue;
      peaks.push(r.peakRssBytes);
      walls.push(r.wallMs);
    }
    const census = await lakeCensus(dataDir);
    if (census.rows !== sim.totals.total) ctx.log(`${label}: lake holds ${census.rows} rows, ground truth ${sim.totals.total}`);
    return { rows: census.rows, truth: sim.totals.total, peaks, walls, ...(after ? { after: await after(sim.url, dataDir) } : {}) };
  } finally {
    await sim.stop();
  }
}

/** An incremental tick: the last 15 minutes of the month for every domain, on a lake that holds the month. */
export const MEMORY_TICK_DOMAINS: SizeSpec = { full: 1000, reduced: 100 };
const TICK_ROWS_PER_DOMAIN = 100;
const TICK_MS = 15 * 60_000;
/** Memory targets (MiB): the default budget (resources.memoryMiB = 512) must keep each below these. */
export const MEMORY_TARGETS = { tick: 256, backfill: 512, stage: 1024 } as const;
const STAGES = ['transform', 'report', 'reconcile'] as const;

/** The base: an ingest of about 100 CDRs (one domain), what any cdrpipe process pays before its work. */
async function measureBase(ctx: BenchContext): Promise<number[]> {
  const sim = await startExtractionSim(ctx, { domains: 1, targetRows: 100 });
  try {
    const dataDir = dataDirFor(ctx, 'lake-memory-base');
    const peaks: number[] = [];
    for (let run = 0; run < ctx.runs; run++) {
      const r = await ingestOnce(ctx, { url: sim.url, dataDir, concurrency: MEMORY_DEFAULTS.concurrency });
      ctx.log(`base run ${run + 1}/${ctx.runs}: peak RSS ${(r.peakRssBytes / MiB).toFixed(0)} MiB, ${r.summary.rowsFetched} rows`);
      peaks.push(r.peakRssBytes);
    }
    return peaks;
  } finally {
    await sim.stop();
  }
}

/** A 15-minute tick over `domains` domains whose month is already in the lake (the backfill is not measured). */
async function measureTick(ctx: BenchContext, domains: number): Promise<{ peaks: number[]; requests: number; backfillPeak: number }> {
  const sim = await startExtractionSim(ctx, { domains, targetRows: domains * TICK_ROWS_PER_DOMAIN });
  try {
    const dataDir = dataDirFor(ctx, 'lake-memory-tick');
    const backfill = await ingestOnce(ctx, { url: sim.url, dataDir, concurrency: MEMORY_DEFAULTS.concurrency });
    const window = { from: new Date(MONTH_TO.getTime() - TICK_MS), to: MONTH_TO };
    const peaks: number[] = [];
    let requests = 0;
    for (let run = 0; run < ctx.runs; run++) {
      const r = await ingestOnce(ctx, { url: sim.url, dataDir, concurrency: MEMORY_DEFAULTS.concurrency, window, keepLake: true });
      ctx.log(`tick run ${run + 1}/${ctx.runs}: peak RSS ${(r.peakRssBytes / MiB).toFixed(0)} MiB, ${r.summary.requests} requests`);
      peaks.push(r.peakRssBytes);
      requests = r.summary.requests;
    }
    return { peaks, requests, backfillPeak: backfill.peakRssBytes };
  } finally {
    await sim.stop();
  }
}

/**
 * Memory under the default budget (resources.memoryMiB = 512): peak RSS (VmHWM) of whole
 * processes, the simulator in another process. The base (an ingest of ~100 CDRs); an incremental
 * tick over many domains; backfills at two sizes (flat means the larger needs at most 1.2x the
 * smaller's peak); then transform, report --dry-run and reconcile over the larger backfill's lake.
 */
export const memory: Scenario = {
  name: NAME,
  title: 'peak RSS: base, incremental tick, backfills at two sizes, transform/report/reconcile',
  async run(ctx) {
    requireFiles(['pipeline/simulator/index.ts', 'pipeline/extract/run-ingest.ts', 'pipeline/source/netsapiens-client.ts']);
    const base = await measureBase(ctx);
    const tickDomains = sizeOf(ctx, MEMORY_TICK_DOMAINS);
    const tick = await measureTick(ctx, tickDomains);
    const domains = domainsFor(sizeOf(ctx, MEMORY_SMALL));
    const small = await measureSize(ctx, sizeOf(ctx, MEMORY_SMALL), domains, 'small');
    const large = await measureSize(ctx, sizeOf(ctx, MEMORY_LARGE), domains, 'large', async (url, dataDir) => {
      const out: Record<string, number[]> = {};
      // Peak RSS of a stage moves little between runs; at the reduced default one run each keeps `npm run bench` short.
      const stageRuns = ctx.full ? ctx.runs : 1;
      for (const stage of STAGES) {
        for (let run = 0; run < stageRuns; run++) {
          const r = await stageOnce(ctx, { stage, dataDir, url });
          ctx.log(`${stage} run ${run + 1}/${stageRuns}: peak RSS ${(r.peakRssBytes / MiB).toFixed(0)} MiB in ${r.wallMs.toFixed(0)} ms`);
          (out[stage] ??= []).push(r.peakRssBytes);
        }
      }
      return out;
    });
    // Pair by run index: both sizes measured in this process run, ratio per pair.
    const ratios = large.peaks.map((p, i) => p / small.peaks[i]!);
    const rows: BenchRow[] = [
      info(
        NAME,
        'base: peak RSS of an ingest of ~100 CDRs',
        median(base) / MiB,
        'MiB',
        'fixed: node ~39 + tsx loader ~39 + DuckDB library and instance ~37 MiB; ours: modules ~65 MiB (ingest ~28, report with handlebars/juice/nodemailer ~38), then state.duckdb and the writer',
      ),
      limitRow(
        NAME,
        `incremental tick of ${tickDomains.toLocaleString('en-US')} domains: peak RSS`,
        median(tick.peaks) / MiB,
        'MiB',
        MEMORY_TARGETS.tick,
        true,
        notes(
          `last 15 minutes of the month over a lake holding it, ${tick.requests} requests; the backfill before it peaked at ${(tick.backfillPeak / MiB).toFixed(0)} MiB`,
          reducedNote(ctx, MEMORY_TICK_DOMAINS, 'domains'),
        ),
      ),
      limitRow(
        NAME,
        `backfill peak RSS at ${small.rows.toLocaleString('en-US')} CDRs`,
        median(small.peaks) / MiB,
        'MiB',
        MEMORY_TARGETS.backfill,
        true,
        `ingest wall ${(median(small.walls) / 1000).toFixed(1)} s`,
      ),
      limitRow(
        NAME,
        `backfill peak RSS at ${large.rows.toLocaleString('en-US')} CDRs`,
        median(large.peaks) / MiB,
        'MiB',
        MEMORY_TARGETS.backfill,
        true,
        `ingest wall ${(median(large.walls) / 1000).toFixed(1)} s`,
      ),
      ratioRow(
        NAME,
        'larger / smaller peak RSS',
        median(ratios),
        { limit: 1.2 },
        notes(`${domains} domains, 1 month`, reducedNote(ctx, MEMORY_LARGE)),
      ),
      ...STAGES.map((stage) =>
        limitRow(
          NAME,
          `${stage === 'report' ? 'report --dry-run' : stage} peak RSS on the ${large.rows.toLocaleString('en-US')}-CDR lake`,
          median(large.after?.[stage] ?? [NaN]) / MiB,
          'MiB',
          MEMORY_TARGETS.stage,
          true,
          notes('a fresh process; DuckDB spills to <data dir>/tmp/duckdb beyond the budget', !ctx.full && 'one run at the reduced default'),
        ),
      ),
      info(NAME, 'ingest throughput at the larger size', large.rows / (median(large.walls) / 1000), 'rows/s'),
      checkRow(
        NAME,
        'lake rows = ground truth (both sizes)',
        small.rows === small.truth && large.rows === large.truth,
        `${small.rows}/${small.truth}, ${large.rows}/${large.truth}`,
      ),
    ];
    return { status: 'ok', rows };
  },
};
