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
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadConfig } from '../pipeline/config/load-config.ts';
import { runIngest } from '../pipeline/extract/run-ingest.ts';
import { LakeWriter } from '../pipeline/lake/lake-writer.ts';
import { NetSapiensClient } from '../pipeline/source/netsapiens-client.ts';
import { FixedClock } from '../pipeline/util/clock.ts';
import { createLogger } from '../pipeline/util/logger.ts';
// Loaded as the bench's worker loads them: the base is the same.
import '../pipeline/report/run-reports.ts';
import '../pipeline/transform/reconcile.ts';
import '../pipeline/transform/run-transform.ts';
import { Db } from '../pipeline/db/duckdb.ts';
import { PartitionMerger } from '../pipeline/extract/partition-merge.ts';
import { BENCH_NOW, BENCH_SEED, MONTH_FROM, MONTH_TO } from './lib/extraction-setup.ts';
import { firstAndLast } from './lib/timeline.ts';
import { startWorker } from './lib/worker.ts';
import type { IngestResult } from './workers/ingest.ts';

const { values } = parseArgs({
  options: {
    domains: { type: 'string', default: '1000' },
    dir: { type: 'string' },
    every: { type: 'string', default: '20' },
    set: { type: 'string', multiple: true, default: [] },
    'gc-ms': { type: 'string' },
  },
});
const DOMAINS = Number(values.domains);
const EVERY_MS = Number(values.every);
const MiB = 2 ** 20;
const C = 8;

async function vm(): Promise<{ rss: number; hwm: number }> {
  const s = await readFile('/proc/self/status', 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB$`, 'm').exec(s)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** V8's young generation and old space (allocated, not used). */
function spaces(): { young: number; old: number } {
  const st = getHeapSpaceStatistics();
  const size = (n: string) => st.find((x) => x.space_name === n)?.space_size ?? 0;
  return { young: size('new_space'), old: size('old_space') };
}

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

  let t0 = 0;
  const at = () => performance.now() - t0;
  const steps: { t: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) steps.push({ t: at(), msg: (JSON.parse(l) as { msg: string }).msg });
      cb();
    },
  });
  // The writer's instance, read on a connection of its own.
  let probe: Db | undefined;
  const open = LakeWriter.open.bind(LakeWriter);
  LakeWriter.open = async (...a: Parameters<typeof LakeWriter.open>) => {
    const w = await open(...a);
    probe = await (w as unknown as { laneDbs: Db[] }).laneDbs[0]!.connect();
    // `--set name=value`: a writer setting tried for one run.
    for (const kv of values.set) await probe.run(`SET ${kv}`);
    return w;
  };
  // Counts: DuckDB instances opened (the writer's, state.duckdb's) and the merger's batches.
  const counts = { opens: new Map<string, number>(), batches: 0, batchParts: 0 };
  const dbOpen = Db.open.bind(Db);
  Db.open = async (...a: Parameters<typeof Db.open>) => {
    const key = a[0] === ':memory:' ? ':memory:' : a[0].split('/').at(-1)!;
    counts.opens.set(key, (counts.opens.get(key) ?? 0) + 1);
    steps.push({ t: at(), msg: `open ${key}` });
    return dbOpen(...a);
  };
  const mergerProto = PartitionMerger.prototype as unknown as Record<string, (...a: unknown[]) => Promise<void>>;
  const flushBatch = mergerProto.flushBatch!;
  mergerProto.flushBatch = function (this: unknown, ...a: unknown[]) {
    counts.batches++;
    counts.batchParts += (a[0] as unknown[]).length;
    return flushBatch.apply(this, a);
  };
  const samples: {
    t: number;
    rss: number;
    heap: number;
    total: number;
    young: number;
    old: number;
    ext: number;
    buf: number;
    duck: number;
  }[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const m = process.memoryUsage();
      let duck = NaN;
      if (probe) {
        const rows = await probe
          .all<{ b: string | number }>('SELECT sum(memory_usage_bytes)::BIGINT AS b FROM duckdb_memory()')
          .catch(() => [{ b: NaN }]);
        duck = Number(rows[0]?.b ?? NaN);
      }
      samples.push({
        t: at(),
        rss: (await vm()).rss,
        heap: m.heapUsed,
        total: m.heapTotal,
        ...spaces(),
        ext: m.external,
        buf: m.arrayBuffers,
        duck,
      });
      await new Promise((r) => setTimeout(r, EVERY_MS));
    }
  })();
  // `--gc-ms N`: a full collection every N ms during the tick (what V8's garbage costs it).
  const gcTimer = values['gc-ms']
    ? (setFlagsFromString('--expose-gc'), setInterval(runInNewContext('gc') as () => void, Number(values['gc-ms'])))
    : undefined;
  const config = await loadConfig();
  const before = await vm();
  console.log(`before the tick: RSS ${(before.rss / MiB).toFixed(0)} MiB, HWM ${(before.hwm / MiB).toFixed(0)} MiB`);
  t0 = performance.now();
  const summary = await runIngest({
    dataDir,
    config: { ...config, ingest: { ...config.ingest, concurrency: C } },
    source: NetSapiensClient.create({ baseUrl: url, auth: { kind: 'api-key', apiKey: 'bench-key' }, maxConcurrentRequests: C }),
    clock: new FixedClock(BENCH_NOW),
    logger: createLogger({ level: 'debug', destination: sink }),
    concurrency: C,
    from: new Date(MONTH_TO.getTime() - 15 * 60_000),
    to: MONTH_TO,
  });
  const wall = at();
  sampling = false;
  clearInterval(gcTimer);
  await sampler;
  const after = await vm();
  console.log(
    `tick of ${DOMAINS} domains: ${summary.requests} requests, ${summary.rowsFetched} rows, ${summary.partitionsWritten} written, ` +
      `${summary.partitionsUnchanged} unchanged; wall ${wall.toFixed(0)} ms; peak RSS (HWM) ${(after.hwm / MiB).toFixed(1)} MiB`,
  );
  console.log(
    `batches ${counts.batches} (${counts.batchParts} partitions); DuckDB opens: ${[...counts.opens].map(([k, n]) => `${k} x${n}`).join(', ')}`,
  );
  const peak = samples.reduce((a, b) => (b.rss > a.rss ? b : a));
  const f = (n: number) => (n / MiB).toFixed(0).padStart(5);
  console.log('    t ms    rss   heap  total  young    old    ext    buf  duckdb');
  const step = Math.max(1, Math.floor(samples.length / 40));
  for (const [i, s] of samples.entries())
    if (i % step === 0 || s === peak)
      console.log(
        `${s.t.toFixed(0).padStart(8)} ${f(s.rss)} ${f(s.heap)} ${f(s.total)} ${f(s.young)} ${f(s.old)} ${f(s.ext)} ${f(s.buf)} ${f(s.duck)}${s === peak ? '  <- peak' : ''}`,
      );
  console.log('steps (debug log):');
  for (const [msg, e] of firstAndLast(steps, (s) => s.msg))
    console.log(`  ${e.first.toFixed(0).padStart(6)} .. ${e.last.toFixed(0).padStart(6)} ms  x${e.n}  ${msg}`);
} finally {
  await sim.call('stop').catch(() => undefined);
  await sim.close();
  if (!values.dir) await rm(work, { recursive: true, force: true });
}
