import { lakeCensus } from '../lib/lake-check.ts';
import { dataDirFor, floorOnce, ingestOnce, MONTH_FROM, MONTH_TO, pullOnce, startExtractionSim } from '../lib/extraction-setup.ts';
import { lowerBoundMs, type PlannedRequest, type RequestTally } from '../lib/request-bound.ts';
import { requireFiles } from '../lib/stage.ts';
import { median } from '../lib/stats.ts';
import { checkRow, info, ratioRow } from '../lib/targets.ts';
import type { BenchContext, BenchRow, Scenario } from '../lib/types.ts';
import { notes, reducedNote, sizeOf, type SizeSpec } from '../lib/sizes.ts';
import { loadConfig } from '../../pipeline/config/load-config.ts';

/** Full size: 200 domains, about 500,000 CDRs (2,500 per domain-month, kept when sizes shrink). */
export const EXTRACTION_ROWS: SizeSpec = { full: 500_000, reduced: 50_000 };
export const EXTRACTION_DEFAULTS = { rowsPerDomain: 2_500, latencyMs: 25, concurrency: 8, pullerDomains: 5 } as const;

/** Rows and domains of scenarios 2 and 3 at this run's size. */
export function extractionSize(ctx: Pick<BenchContext, 'full' | 'scale'>): { rows: number; domains: number } {
  const rows = sizeOf(ctx, EXTRACTION_ROWS);
  return { rows, domains: Math.max(10, Math.round(rows / EXTRACTION_DEFAULTS.rowsPerDomain)) };
}

const NAME = 'extraction';

/**
 * Extraction against a slow API: the simulator answers every request after a fixed latency; the
 * ingest runs with C requests in flight. The floor is what any client pays on this machine: the
 * minimum set of requests (found with ground-truth counts) at the same C against the same
 * simulator, each body read and discarded; the ingest's wall time is reported as a ratio to it,
 * requests as a ratio to the minimum. A one-request-at-a-time puller with daily windows runs on a
 * subset of domains for the speed-up.
 */
export const extraction: Scenario = {
  name: NAME,
  title: 'ingest against a 25 ms API at C=8 vs the floor (minimum requests, bodies discarded); vs a one-at-a-time daily puller',
  async run(ctx) {
    requireFiles(['pipeline/simulator/index.ts', 'pipeline/extract/run-ingest.ts', 'pipeline/source/netsapiens-client.ts']);
    const d = EXTRACTION_DEFAULTS;
    const size = extractionSize(ctx);
    const settings = (await loadConfig()).ingest;
    const sim = await startExtractionSim(ctx, { domains: size.domains, targetRows: size.rows, faults: { latencyMs: d.latencyMs } });
    try {
      const minimum = await sim.worker.call<RequestTally & { plan: PlannedRequest[] }>('minimumRequests', {
        from: MONTH_FROM,
        to: MONTH_TO,
        rowBudget: settings.rowBudget,
        pageSize: settings.pageSize,
        minWindowMinutes: settings.minWindowMinutes,
        plan: true,
      });
      const minReq = minimum.counts + minimum.lists;
      const boundMs = lowerBoundMs(minReq, d.concurrency, d.latencyMs);
      ctx.log(
        `minimum ${minReq} requests (${minimum.counts} counts, ${minimum.lists} lists, ${minimum.windows} windows); bound ${boundMs.toFixed(0)} ms`,
      );

      // Every k-th domain by name: a spread of sizes, not just the first few.
      const step = Math.max(1, Math.floor(sim.domains.length / d.pullerDomains));
      const subset = [...sim.domains]
        .sort()
        .filter((_, i) => i % step === 0)
        .slice(0, d.pullerDomains);
      const subsetRows = subset.reduce((n, s) => n + (sim.totals.byDomain[s]?.total ?? 0), 0);

      const dataDir = dataDirFor(ctx, 'lake-extraction');
      const walls: number[] = [];
      const floors: number[] = [];
      const overFloor: number[] = [];
      const requests: number[] = [];
      const rowsPerS: number[] = [];
      const speedups: number[] = [];
      const pullerRowsPerS: number[] = [];
      let pullerRequests = 0;
      let lastRows = 0;
      for (let run = -1; run < ctx.runs; run++) {
        const ing = await ingestOnce(ctx, { url: sim.url, dataDir, concurrency: d.concurrency });
        const floor = await floorOnce(ctx, { url: sim.url, plan: minimum.plan, concurrency: d.concurrency, pageSize: settings.pageSize });
        const pull = await pullOnce(ctx, { url: sim.url, domains: subset });
        const ingRate = ing.summary.rowsFetched / (ing.wallMs / 1000);
        const pullRate = pull.rows / (pull.wallMs / 1000);
        ctx.log(
          `${run < 0 ? 'warm-up' : `run ${run + 1}/${ctx.runs}`}: ingest ${ing.wallMs.toFixed(0)} ms, ${ing.summary.requests} requests, ${ing.summary.rowsFetched} rows; ` +
            `floor ${floor.wallMs.toFixed(0)} ms, ${floor.requests} requests, ${(floor.bytes / 2 ** 20).toFixed(0)} MiB; ` +
            `puller ${pull.wallMs.toFixed(0)} ms, ${pull.requests} requests, ${pull.rows} rows`,
        );
        if (pull.rows !== subsetRows)
          throw new Error(`the puller read ${pull.rows} rows of ${subset.length} domains, ground truth is ${subsetRows}`);
        if (run < 0) continue;
        walls.push(ing.wallMs);
        floors.push(floor.wallMs);
        overFloor.push(ing.wallMs / floor.wallMs);
        requests.push(ing.summary.requests);
        rowsPerS.push(ingRate);
        pullerRowsPerS.push(pullRate);
        speedups.push(ingRate / pullRate);
        pullerRequests = pull.requests;
        lastRows = ing.summary.rowsFetched;
      }
      const census = await lakeCensus(dataDir);
      const wall = median(walls);
      const rows: BenchRow[] = [
        info(
          NAME,
          'CDRs in the month (ground truth)',
          sim.totals.total,
          'rows',
          notes(`${size.domains} domains, latency ${d.latencyMs} ms, C=${d.concurrency}`, reducedNote(ctx, EXTRACTION_ROWS)),
        ),
        info(NAME, 'minimum requests', minReq, 'requests', `${minimum.counts} count + ${minimum.lists} list calls`),
        info(
          NAME,
          'floor: the minimum requests at C, bodies read and discarded',
          median(floors),
          'ms',
          `same simulator, same machine, fresh process; latency alone would allow ${boundMs.toFixed(0)} ms (min requests / C x latency)`,
        ),
        info(NAME, 'ingest wall time', wall, 'ms'),
        ratioRow(NAME, 'ingest wall / floor', median(overFloor), { limit: 1.3 }, 'pair by pair: ingest, then the floor, in each run'),
        ratioRow(NAME, 'requests issued / minimum', median(requests) / minReq, { limit: 1.02 }, `median ${median(requests)} requests`),
        info(NAME, 'ingest throughput', median(rowsPerS), 'rows/s'),
        checkRow(
          NAME,
          'lake rows = ground truth',
          census.rows === sim.totals.total && census.distinctKeys === census.rows && lastRows === census.rows,
          `lake ${census.rows}, distinct ${census.distinctKeys}, truth ${sim.totals.total}`,
        ),
        info(
          NAME,
          'public puller throughput',
          median(pullerRowsPerS),
          'rows/s',
          `${subset.length} domains (${subsetRows} rows), 1 request at a time, daily windows, ${pullerRequests} requests`,
        ),
        info(NAME, 'speed-up over public puller', median(speedups), 'x', 'rows/s ratio, pair by pair'),
      ];
      return { status: 'ok', rows };
    } finally {
      await sim.stop();
    }
  },
};
