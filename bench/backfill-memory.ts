/**
 * Where a backfill's peak RSS goes, on the `memory` scenario's backfill (a simulated month over
 * `--domains`, simulator in its own process): the backfill runs in this process (which loads the
 * same modules as the bench's worker) beside a sampler of VmRSS, V8's heap, Buffers and the lake
 * writer's `duckdb_memory()`, and the run's steps from its debug log. Start it with the product's
 * V8 flags (config/process-flags.ts) to measure what `cdrpipe` runs with:
 *
 *   node --max-semi-space-size=2 --import tsx bench/backfill-memory.ts [--rows 500000] [--domains 100] [--every 20] [--set name=value]
 */
import { mkdtemp, rm } from 'node:fs/promises';
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

const { values } = parseArgs({
  options: {
    domains: { type: 'string', default: '100' },
    rows: { type: 'string', default: '500000' },
    'writer-limit': { type: 'string' },
    dir: { type: 'string' },
    ...PROBE_ARGS,
  },
});
const DOMAINS = Number(values.domains);
const C = 8;

const ROWS = Number(values.rows);
const work = await mkdtemp(join(os.tmpdir(), 'cdrpipe-backfill-memory-'));
const sim = await startWorker('simulator');
try {
  const base = { seed: BENCH_SEED, domains: DOMAINS, volume: 1, dataFrom: MONTH_FROM, dataTo: MONTH_TO, now: BENCH_NOW };
  await sim.call('start', base);
  const unit = await sim.call<{ total: number }>('totals', { month: '2026-10' });
  const volume = Math.max(0.01, Math.round((ROWS / Math.max(1, unit.total)) * 1000) / 1000);
  const { url } = await sim.call<{ url: string }>('start', { ...base, volume });
  const dataDir = join(work, 'data');

  const probe = IngestMemoryProbe.install(probeOptions(values));
  await probe.ingest(`backfill of ${DOMAINS} domains`, {
    url,
    dataDir,
    from: MONTH_FROM,
    to: MONTH_TO,
    concurrency: C,
    ...(values['writer-limit'] ? { writerMemoryLimit: values['writer-limit'] } : {}),
  });
  probe.print(60);
} finally {
  await sim.call('stop').catch(() => undefined);
  await sim.close();
  await rm(work, { recursive: true, force: true });
}
