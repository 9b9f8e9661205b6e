/**
 * Where an incremental tick's peak RSS goes, on the `memory` scenario's tick (the last 15 minutes
 * of the month over a lake holding it, 100 CDRs per domain in the month, simulator in its own
 * process): the month is backfilled in a worker process, then the tick runs in this one (which
 * loads the same modules as the bench's worker) beside a sampler of VmRSS, V8's heap, Buffers and
 * the lake writer's `duckdb_memory()`, and the run's steps from its debug log. Start it with the
 * product's V8 flags (config/process-flags.ts) to measure what `cdrpipe` runs with:
 *
 *   node --max-semi-space-size=2 --import tsx bench/tick-memory.ts [--domains 1000] [--dir /tmp/x] [--every 20]
 *
 * With `--dir` the backfilled lake is kept and reused by the next run with the same domains.
 */
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
// Loaded as the bench's worker loads them: the base is the same.
import '../pipeline/report/run-reports.ts';
import '../pipeline/transform/reconcile.ts';
import '../pipeline/transform/run-transform.ts';
import { BENCH_NOW, BENCH_SEED, MONTH_FROM, MONTH_TO } from './lib/extraction-setup.ts';
import { IngestMemoryProbe, PROBE_ARGS, probeOptions } from './lib/ingest-memory-probe.ts';
import { startWorker } from './lib/worker.ts';
import type { IngestResult } from './workers/ingest.ts';

const { values } = parseArgs({
  options: {
    domains: { type: 'string', default: '1000' },
    dir: { type: 'string' },
    ...PROBE_ARGS,
  },
});
const DOMAINS = Number(values.domains);
const MiB = 2 ** 20;
const C = 8;

const work = values.dir ?? (await mkdtemp(join(os.tmpdir(), 'cdrpipe-tick-memory-')));
const sim = await startWorker('simulator');
try {
  const base = { seed: BENCH_SEED, domains: DOMAINS, volume: 1, dataFrom: MONTH_FROM, dataTo: MONTH_TO, now: BENCH_NOW };
  await sim.call('start', base);
  const unit = await sim.call<{ total: number }>('totals', { month: '2026-10' });
  const volume = Math.max(0.01, Math.round(((DOMAINS * 100) / Math.max(1, unit.total)) * 1000) / 1000);
  const { url } = await sim.call<{ url: string }>('start', { ...base, volume });
  const seeded = join(work, `month-${DOMAINS}`);
  if (!existsSync(seeded)) {
    const w = await startWorker('ingest');
    try {
      const r = await w.call<IngestResult>('ingest', {
        url,
        dataDir: seeded,
        from: MONTH_FROM,
        to: MONTH_TO,
        now: BENCH_NOW,
        concurrency: C,
      });
      console.log(`backfill: ${r.summary.rowsFetched} rows, peak RSS ${(r.peakRssBytes / MiB).toFixed(0)} MiB`);
    } finally {
      await w.close();
    }
  }
  const dataDir = join(work, 'tick');
  await rm(dataDir, { recursive: true, force: true });
  await cp(seeded, dataDir, { recursive: true });

  const probe = IngestMemoryProbe.install(probeOptions(values));
  await probe.ingest(`tick of ${DOMAINS} domains`, {
    url,
    dataDir,
    from: new Date(MONTH_TO.getTime() - 15 * 60_000),
    to: MONTH_TO,
    concurrency: C,
  });
  probe.print(40);
} finally {
  await sim.call('stop').catch(() => undefined);
  await sim.close();
  if (!values.dir) await rm(work, { recursive: true, force: true });
}
