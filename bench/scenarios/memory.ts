import { dataDirFor, ingestOnce, startExtractionSim } from '../lib/extraction-setup.ts';
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
}

/** Backfills one simulated month of `targetRows` CDRs, each run in a fresh process; returns peak RSS per run. */
async function measureSize(ctx: BenchContext, targetRows: number, domains: number, label: string): Promise<SizeResult> {
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
    return { rows: census.rows, truth: sim.totals.total, peaks, walls };
  } finally {
    await sim.stop();
  }
}

/**
 * Memory: peak RSS (VmHWM) of a whole ingest process, the simulator in another process, at two
 * backfill sizes. Flat means the larger backfill needs at most 1.2x the smaller's peak.
 */
export const memory: Scenario = {
  name: NAME,
  title: 'peak RSS of an ingest process at two backfill sizes',
  async run(ctx) {
    requireFiles(['pipeline/simulator/index.ts', 'pipeline/extract/run-ingest.ts', 'pipeline/source/netsapiens-client.ts']);
    const domains = domainsFor(sizeOf(ctx, MEMORY_SMALL));
    const small = await measureSize(ctx, sizeOf(ctx, MEMORY_SMALL), domains, 'small');
    const large = await measureSize(ctx, sizeOf(ctx, MEMORY_LARGE), domains, 'large');
    // Pair by run index: both sizes measured in this process run, ratio per pair.
    const ratios = large.peaks.map((p, i) => p / small.peaks[i]!);
    const rows: BenchRow[] = [
      limitRow(
        NAME,
        `peak RSS at ${small.rows.toLocaleString('en-US')} CDRs`,
        median(small.peaks) / MiB,
        'MiB',
        1024,
        true,
        `ingest wall ${(median(small.walls) / 1000).toFixed(1)} s`,
      ),
      limitRow(
        NAME,
        `peak RSS at ${large.rows.toLocaleString('en-US')} CDRs`,
        median(large.peaks) / MiB,
        'MiB',
        1024,
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
