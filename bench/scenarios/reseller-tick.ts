import { rm } from 'node:fs/promises';
import { loadConfig } from '../../pipeline/config/load-config.ts';
import { lakeCensus } from '../lib/lake-check.ts';
import { dataDirFor } from '../lib/extraction-setup.ts';
import { lowerBoundMs, patternRounds, type PlannedRequest, type RequestTally } from '../lib/request-bound.ts';
import { requireFiles } from '../lib/stage.ts';
import { median } from '../lib/stats.ts';
import { checkRow, info, ratioRow } from '../lib/targets.ts';
import type { BenchContext, BenchRow, Scenario } from '../lib/types.ts';
import { notes, reducedNote, sizeOf, type SizeSpec } from '../lib/sizes.ts';
import { startWorker, type WorkerHandle } from '../lib/worker.ts';
import type { BareWriteResult, IngestResult, TickParams } from '../workers/ingest.ts';

/** Domains of the reseller: the full size is the 5,000 the target speaks of (the reduced one keeps the run short on a shared machine). */
export const RESELLER_DOMAINS: SizeSpec = { full: 5_000, reduced: 100 };
const LATENCY_MS = 25;
const CONCURRENCY = 8;
const SEED = 7;
/** A Friday: the tick's 48 h lookback covers two business days, inside one UTC month. */
const NOW = new Date('2026-11-20T00:00:00Z');
/** Where the previous tick left every watermark: now minus the settle time, a tick ago. */
const WATERMARK = new Date(NOW.getTime() - 30 * 60_000);
const NAME = 'reseller-tick';

async function tickOnce(ctx: BenchContext, p: Omit<TickParams, 'dataDir'>, dataDir: string): Promise<IngestResult> {
  await rm(dataDir, { recursive: true, force: true });
  const worker = await startWorker('ingest', { signal: ctx.signal });
  try {
    return await worker.call<IngestResult>('tick', { ...p, dataDir });
  } finally {
    await worker.close();
  }
}

/**
 * One incremental tick over thousands of domains against a 25 ms API at C=8: through the
 * reseller-wide `/cdrs` (a reseller key) and, on the same tick, per domain (a domain-scoped key
 * makes the same code fall back). Requests are compared with the reseller-wide minimum (counts +
 * ceil(rows / 1000) pages), wall time with that minimum's latency bound.
 */
export const resellerTick: Scenario = {
  name: NAME,
  title: 'a 15-minute tick over thousands of domains: reseller-wide /cdrs vs per-domain reads (25 ms API, C=8)',
  async run(ctx) {
    requireFiles(['pipeline/extract/reseller-runner.ts', 'pipeline/simulator/reseller-view.ts']);
    const domains = sizeOf(ctx, RESELLER_DOMAINS);
    const settings = (await loadConfig()).ingest;
    const sim: WorkerHandle = await startWorker('simulator', { signal: ctx.signal });
    try {
      const started = await sim.call<{ url: string; domains: string[] }>('start', {
        seed: SEED,
        domains,
        volume: 1,
        dataFrom: new Date(NOW.getTime() - 4 * 86_400_000),
        dataTo: NOW,
        now: NOW,
        faults: { latencyMs: LATENCY_MS },
      });
      const from = new Date(WATERMARK.getTime() - settings.lookbackHours * 3_600_000);
      const to = new Date(NOW.getTime() - settings.settleMinutes * 60_000);
      const minimum = await sim.call<RequestTally & { plan: PlannedRequest[] }>('resellerMinimum', {
        from,
        to,
        rowBudget: settings.rowBudget,
        pageSize: settings.pageSize,
        minWindowMinutes: settings.minWindowMinutes,
        plan: true,
      });
      const minReq = minimum.counts + minimum.lists;
      const boundMs = lowerBoundMs(minReq, CONCURRENCY, LATENCY_MS);
      // The same requests when each count must come back before its pages (or halves) are known.
      const rounds = patternRounds(minimum.plan, CONCURRENCY);
      const patternBoundMs = rounds * LATENCY_MS;
      const perDomainBoundMs = lowerBoundMs(2 * domains, CONCURRENCY, LATENCY_MS);
      ctx.log(`${domains} domains, ${minimum.rows} CDRs in the tick; minimum ${minReq} requests; bound ${boundMs.toFixed(0)} ms`);

      const base = { url: started.url, now: NOW, concurrency: CONCURRENCY, domains: started.domains, watermark: WATERMARK };
      const wideDir = dataDirFor(ctx, 'reseller-wide');
      const aloneDir = dataDirFor(ctx, 'per-domain');
      const wide: IngestResult[] = [];
      const alone: IngestResult[] = [];
      const bare: BareWriteResult[] = [];
      // No warm-up: every tick runs in a fresh process against a fresh data directory.
      for (let run = 0; run < ctx.runs; run++) {
        const w = await tickOnce(ctx, { ...base, apiKey: 'nsr_bench' }, wideDir);
        const a = await tickOnce(ctx, { ...base, apiKey: 'nsd_bench' }, aloneDir);
        ctx.log(
          `run ${run + 1}/${ctx.runs}: reseller-wide ${w.wallMs.toFixed(0)} ms (requests done at ${(w.fetchMs ?? 0).toFixed(0)} ms), ` +
            `${w.summary.requests} requests; per domain ${a.wallMs.toFixed(0)} ms (requests done at ${(a.fetchMs ?? 0).toFixed(0)} ms), ${a.summary.requests} requests`,
        );
        if (!w.summary.resellerWide?.used)
          throw new Error(`the reseller key did not read reseller-wide: ${w.summary.resellerWide?.reason}`);
        if (a.summary.resellerWide?.used) throw new Error('the domain key read reseller-wide');
        wide.push(w);
        alone.push(a);
        // What writing the same partitions costs with nothing but DuckDB and the filesystem, in a fresh process too.
        const writer = await startWorker('ingest', { signal: ctx.signal });
        try {
          bare.push(await writer.call<BareWriteResult>('bareWrite', { dataDir: wideDir, outDir: dataDirFor(ctx, 'bare-write') }));
        } finally {
          await writer.close();
        }
      }
      const [wideLake, aloneLake] = [await lakeCensus(wideDir), await lakeCensus(aloneDir)];
      const wideWall = median(wide.map((r) => r.wallMs));
      const aloneWall = median(alone.map((r) => r.wallMs));
      const wideFetch = median(wide.map((r) => r.fetchMs ?? r.wallMs));
      const aloneFetch = median(alone.map((r) => r.fetchMs ?? r.wallMs));
      const wideReq = median(wide.map((r) => r.summary.requests));
      const aloneReq = median(alone.map((r) => r.summary.requests));
      const bareMs = median(bare.map((b) => b.wallMs));
      const rows: BenchRow[] = [
        info(
          NAME,
          'CDRs in the tick (ground truth)',
          minimum.rows,
          'rows',
          notes(`${domains} domains, latency ${LATENCY_MS} ms, C=${CONCURRENCY}`, reducedNote(ctx, RESELLER_DOMAINS, 'domains')),
        ),
        info(NAME, 'minimum requests (reseller-wide)', minReq, 'requests', `${minimum.counts} count + ${minimum.lists} list calls`),
        ratioRow(
          NAME,
          'reseller-wide requests / minimum',
          wideReq / minReq,
          { limit: 1.05 },
          `median ${wideReq} requests; the domain list comes from state, stored by the tick before (${Math.ceil((domains + 1) / 1000)} page(s) of GET /domains an hour)`,
        ),
        info(NAME, 'lower bound (min requests / C x latency)', boundMs, 'ms'),
        info(
          NAME,
          'request-pattern bound (counts before their pages)',
          patternBoundMs,
          'ms',
          `${rounds} round trips of ${LATENCY_MS} ms at C=${CONCURRENCY}: a page is known only once its window's count (and the counts of the splits above it) came back; without splits 1 + ceil(pages / C)`,
        ),
        info(NAME, 'reseller-wide: requests answered after', wideFetch, 'ms', 'from the start of the tick to its last answered request'),
        ratioRow(NAME, 'reseller-wide requests phase / lower bound', wideFetch / boundMs, { limit: 1.5 }),
        info(NAME, 'reseller-wide requests phase / request-pattern bound', wideFetch / patternBoundMs, 'x'),
        info(
          NAME,
          'reseller-wide tick wall time',
          wideWall,
          'ms',
          'the requests, then every domain partition written (batched statements, one publish each)',
        ),
        ratioRow(NAME, 'reseller-wide wall time / lower bound', wideWall / boundMs, { limit: 1.5 }, 'includes writing every partition'),
        info(
          NAME,
          'bare write of the tick partitions',
          bareMs,
          'ms',
          `${bare[0]?.partitions ?? 0} partitions, ${bare[0]?.rows ?? 0} rows: one DuckDB COPY ... PARTITION_BY (domain), then each file fsynced and renamed (16 at a time); no de-duplication, no stored-file comparison, no watermarks`,
        ),
        info(
          NAME,
          'reseller-wide wall time / (request-pattern bound + bare write)',
          wideWall / (patternBoundMs + bareMs),
          'x',
          'what a client that fetches and durably writes the same partitions cannot beat on this machine',
        ),
        info(NAME, 'per-domain tick requests', aloneReq, 'requests', 'same tick, domain-scoped key'),
        info(
          NAME,
          'per-domain: requests answered after',
          aloneFetch,
          'ms',
          `its own bound: ${perDomainBoundMs.toFixed(0)} ms (2 requests per domain)`,
        ),
        info(NAME, 'per-domain tick wall time', aloneWall, 'ms'),
        info(NAME, 'requests saved (per-domain / reseller-wide)', aloneReq / wideReq, 'x'),
        checkRow(
          NAME,
          'both lakes = ground truth',
          wideLake.rows === minimum.rows && aloneLake.rows === minimum.rows && wideLake.distinctKeys === wideLake.rows,
          `reseller-wide ${wideLake.rows}, per domain ${aloneLake.rows}, truth ${minimum.rows}`,
        ),
      ];
      return { status: 'ok', rows };
    } finally {
      await sim.call('stop').catch(() => undefined);
      await sim.close();
    }
  },
};
