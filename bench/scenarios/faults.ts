import type { FaultOptions } from '../../pipeline/simulator/index.ts';
import { dataDirFor, ingestOnce, startExtractionSim } from '../lib/extraction-setup.ts';
import { lakeCensus } from '../lib/lake-check.ts';
import { requireFiles } from '../lib/stage.ts';
import { median } from '../lib/stats.ts';
import { checkRow, info } from '../lib/targets.ts';
import type { BenchRow, Scenario } from '../lib/types.ts';
import { EXTRACTION_DEFAULTS, extractionSize } from './extraction.ts';

const NAME = 'faults';

/**
 * Scenario 2's API plus the faults of a busy multi-tenant PBX. The rate limit is set per run to
 * half the request rate the clean warm-up reached, so 429 bursts happen whatever the machine's speed.
 */
export function faultsFor(requestsPerSecond: number): FaultOptions {
  return {
    seed: 11,
    latencyMs: EXTRACTION_DEFAULTS.latencyMs,
    errorRate: 0.1,
    errorStatuses: [500, 502, 503],
    // Above this many requests in one wall-clock second the server answers 429 with Retry-After: 1.
    rateLimit: { requestsPerSecond, retryAfterSeconds: 1 },
    dropRate: 0.03,
  };
}

/**
 * Faults cost time, not data: scenario 2's ingest run back to back without and with faults
 * against the same simulator. Every run's lake must equal ground truth (per domain, rows and
 * seconds), or the bench fails; the wall-time ratio is reported pair by pair.
 */
export const faults: Scenario = {
  name: NAME,
  title: 'scenario 2 with 10% 5xx, 429 + Retry-After and dropped connections: lake rows must equal ground truth',
  async run(ctx) {
    requireFiles(['pipeline/simulator/index.ts', 'pipeline/extract/run-ingest.ts', 'pipeline/source/netsapiens-client.ts']);
    const d = EXTRACTION_DEFAULTS;
    const size = extractionSize(ctx);
    const sim = await startExtractionSim(ctx, { domains: size.domains, targetRows: size.rows });
    try {
      const cleanDir = dataDirFor(ctx, 'lake-clean');
      const faultDir = dataDirFor(ctx, 'lake-faults');
      const ratios: number[] = [];
      const faultWalls: number[] = [];
      const retries: Record<string, number>[] = [];
      const mismatches: string[] = [];
      let limitRps = 0;
      let lastInjected: Record<string, number> = {};
      for (let run = -1; run < ctx.runs; run++) {
        await sim.worker.call('setFaults', { latencyMs: d.latencyMs });
        const clean = await ingestOnce(ctx, { url: sim.url, dataDir: cleanDir, concurrency: d.concurrency });
        if (run < 0) limitRps = Math.max(2, Math.floor((0.5 * clean.summary.requests) / (clean.wallMs / 1000)));
        await sim.worker.call('setFaults', faultsFor(limitRps));
        const before = await sim.worker.call<{ faultsInjected: Record<string, number> }>('stats');
        const faulty = await ingestOnce(ctx, { url: sim.url, dataDir: faultDir, concurrency: d.concurrency });
        const after = await sim.worker.call<{ faultsInjected: Record<string, number> }>('stats');
        const injected = Object.fromEntries(
          Object.entries(after.faultsInjected)
            .map(([k, v]) => [k, v - (before.faultsInjected[k] ?? 0)])
            .filter(([k, v]) => k !== 'latency' && v !== 0),
        );
        const census = await lakeCensus(faultDir);
        let off = 0;
        for (const [domain, t] of Object.entries(sim.totals.byDomain)) if ((census.byDomain.get(domain) ?? 0) !== t.total) off++;
        if (census.rows !== sim.totals.total || census.distinctKeys !== census.rows || off > 0) {
          mismatches.push(
            `run ${run + 1}: lake ${census.rows} rows (${census.distinctKeys} distinct), truth ${sim.totals.total}, ${off} domains off`,
          );
        }
        ctx.log(
          `${run < 0 ? 'warm-up' : `run ${run + 1}/${ctx.runs}`}: clean ${clean.wallMs.toFixed(0)} ms, faults ${faulty.wallMs.toFixed(0)} ms ` +
            `(${faulty.summary.requests} requests, retries ${JSON.stringify(faulty.summary.retriesByReason)}, injected ${JSON.stringify(injected)}), lake ${census.rows}/${sim.totals.total}`,
        );
        if (run < 0) continue;
        ratios.push(faulty.wallMs / clean.wallMs);
        faultWalls.push(faulty.wallMs);
        retries.push(faulty.summary.retriesByReason);
        lastInjected = injected;
      }
      const lastRetries = retries[retries.length - 1] ?? {};
      const rows: BenchRow[] = [
        checkRow(
          NAME,
          'lake rows = ground truth under faults (every run)',
          mismatches.length === 0,
          mismatches.length === 0 ? `${sim.totals.total} rows, every domain` : mismatches.join('; '),
        ),
        info(NAME, 'wall time with faults', median(faultWalls), 'ms'),
        info(NAME, 'wall time ratio to scenario 2 (faults / clean)', median(ratios), 'x', 'pair by pair, no target'),
        info(
          NAME,
          'retries in the last run',
          Object.values(lastRetries).reduce((a, b) => a + b, 0),
          'requests',
          `by reason ${JSON.stringify(lastRetries)}; injected ${JSON.stringify(lastInjected)}`,
        ),
        info(
          NAME,
          'rate limit (429 above)',
          limitRps,
          'requests/s',
          'half the clean warm-up rate; Retry-After: 1; plus 10% 5xx (500/502/503) and 3% dropped connections',
        ),
      ];
      return { status: 'ok', rows };
    } finally {
      await sim.stop();
    }
  },
};
