/**
 * Where one backfill's time goes, on the `extraction` scenario's setup (simulator in its own
 * process, 25 ms latency, C=8, the month of October 2026): CPU of the ingest's threads and of the
 * simulator, requests in flight over time, the run's steps from its debug log, each writer
 * lane's busy spans (DuckDB work), the publishes (fsync and rename) after them and the merger's
 * batches; then the floor (the minimum requests, bodies discarded) in this same process, for the
 * ratio. `--no-write` drops every flush's spool files instead of writing the lake (what fetching,
 * parsing and spooling cost alone); `--verbose` lists every request (sent, headers, body read).
 * Each run also prints the main thread's GC pauses (minor, major) and the explicit full collections.
 *
 *   npx tsx bench/extraction-breakdown.ts [--rows 50000] [--runs 2] [--no-write] [--verbose]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { constants as perfConstants, PerformanceObserver } from 'node:perf_hooks';
import pLimit from 'p-limit';
import { loadConfig } from '../pipeline/config/load-config.ts';
import { runIngest } from '../pipeline/extract/run-ingest.ts';
import { domainPath, NetSapiensClient, windowQuery } from '../pipeline/source/netsapiens-client.ts';
import { FixedClock } from '../pipeline/util/clock.ts';
import { createLogger } from '../pipeline/util/logger.ts';
import { PartitionMerger } from '../pipeline/extract/partition-merge.ts';
import { KeyedLanes } from '../pipeline/lake/keyed-lanes.ts';
import { startWorker } from './lib/worker.ts';
import { firstAndLast } from './lib/timeline.ts';
import type { PlannedRequest, RequestTally } from './lib/request-bound.ts';
import type { SimTotals } from './workers/simulator.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '50000' },
    runs: { type: 'string', default: '2' },
    'no-write': { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
});
const ROWS = Number(values.rows);
const DOMAINS = Math.max(10, Math.round(ROWS / 2_500));
const LATENCY_MS = 25;
const C = 8;
const FROM = new Date('2026-10-01T00:00:00Z');
const TO = new Date('2026-11-01T00:00:00Z');
const NOW = new Date('2026-11-03T00:00:00Z');

let t0 = 0;
const at = () => performance.now() - t0;

// Each lane task's DuckDB part (`fn`) and file-system part (`then`), by the resource it ran on.
const laneSpans: { lane: number; start: number; end: number; kind: 'db' | 'publish' }[] = [];
const laneIds = new WeakMap<object, number>();
let nextLane = 0;
{
  type Run = (this: unknown, key: unknown, fn: (r: object) => Promise<unknown>, opts?: Record<string, unknown>) => unknown;
  const proto = KeyedLanes.prototype as unknown as { run: Run };
  const run = proto.run;
  proto.run = function (key, fn, opts = {}) {
    const wrapped = async (r: object) => {
      if (!laneIds.has(r)) laneIds.set(r, nextLane++);
      const span = { lane: laneIds.get(r)!, start: at(), end: NaN, kind: 'db' as const };
      laneSpans.push(span);
      try {
        return await fn(r);
      } finally {
        span.end = at();
      }
    };
    const then = opts.then as ((v: unknown) => Promise<unknown>) | undefined;
    const wrappedThen = then
      ? async (v: unknown) => {
          const span = { lane: -1, start: at(), end: NaN, kind: 'publish' as const };
          laneSpans.push(span);
          try {
            return await then(v);
          } finally {
            span.end = at();
          }
        }
      : undefined;
    return run.call(this, key, wrapped, { ...opts, ...(wrappedThen ? { then: wrappedThen } : {}) });
  };
}

// Each batch handed to the writer: when it started and when it finished (written, watermarks moved, spool removed).
const batches: { n: number; start: number; end: number }[] = [];
{
  const merger = PartitionMerger.prototype as unknown as Record<string, (...a: unknown[]) => Promise<void>>;
  const flush = merger.flushBatch!;
  merger.flushBatch = async function (this: unknown, items: unknown) {
    const b = { n: (items as unknown[]).length, start: at(), end: NaN };
    batches.push(b);
    try {
      return await flush.call(this, items);
    } finally {
      b.end = at();
    }
  };
}

if (values['no-write']) {
  // What the run costs without the lake: every flush only drops its spool files.
  const proto = PartitionMerger.prototype as unknown as Record<string, (...a: unknown[]) => Promise<void>>;
  proto.flushBatch = async function (this: { o: { spool: { remove(f: string[]): Promise<void> } } }, items: unknown) {
    await this.o.spool.remove((items as { windows: { files: string[] }[] }[]).flatMap((q) => q.windows.flatMap((w) => w.files)));
  };
}

const work = await mkdtemp(join(os.tmpdir(), 'cdrpipe-extraction-breakdown-'));
const sim = await startWorker('simulator');
try {
  const base = { seed: 7, domains: DOMAINS, volume: 1, dataFrom: FROM, dataTo: TO, now: NOW };
  await sim.call('start', base);
  const unit = await sim.call<SimTotals>('totals', { month: '2026-10' });
  const volume = Math.max(0.01, Math.round((ROWS / Math.max(1, unit.total)) * 1000) / 1000);
  const started = await sim.call<{ url: string; domains: string[] }>('start', { ...base, volume, faults: { latencyMs: LATENCY_MS } });
  const config0 = await loadConfig();
  const config = { ...config0, ingest: { ...config0.ingest, concurrency: C } };
  const minimum = await sim.call<RequestTally & { plan: PlannedRequest[] }>('minimumRequests', {
    from: FROM,
    to: TO,
    rowBudget: config.ingest.rowBudget,
    pageSize: config.ingest.pageSize,
    minWindowMinutes: config.ingest.minWindowMinutes,
    plan: true,
  });
  console.log(`${DOMAINS} domains, minimum ${minimum.counts + minimum.lists} requests (${minimum.counts} counts + ${minimum.lists} pages)`);

  for (let run = 0; run < Number(values.runs); run++) {
    const dataDir = join(work, `data-${run}`);
    laneSpans.length = 0;
    const sent: number[] = [];
    const answered: number[] = [];
    const reqs: { what: string; sent: number; head?: number; done?: number }[] = [];
    const timedFetch: typeof fetch = async (input, init) => {
      sent.push(at());
      const u = new URL(String(input));
      const mark: { what: string; sent: number; head?: number; done?: number } = {
        what: `${u.pathname.replace(/^.*\/domains\//, '').replace(/\/cdrs/, '')}${u.searchParams.get('start') ? `@${u.searchParams.get('start')}` : u.pathname.endsWith('count') ? '' : ''}`,
        sent: at(),
      };
      reqs.push(mark);
      const res = await fetch(input, init);
      mark.head = at();
      const done = () => {
        mark.done = at();
        answered.push(mark.done);
      };
      const ab = res.arrayBuffer.bind(res);
      const tx = res.text.bind(res);
      Object.assign(res, { arrayBuffer: () => ab().finally(done), text: () => tx().finally(done) });
      return res;
    };
    const source = NetSapiensClient.create({
      baseUrl: started.url,
      auth: { kind: 'api-key', apiKey: 'bench-key' },
      maxConcurrentRequests: C,
      fetch: timedFetch,
    });
    const steps: { t: number; msg: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString().split('\n')) {
          if (!l.trim()) continue;
          const line = JSON.parse(l) as { msg: string; collections?: number; cpuMs?: number };
          steps.push({ t: at(), msg: line.msg });
          if (line.collections !== undefined) explicitGc = `${line.collections} explicit full collections, ${line.cpuMs} CPU-ms`;
        }
        cb();
      },
    });
    const progress: { t: number; phase: string }[] = [];
    const threads0 = threadCpu();
    const cpu0 = process.cpuUsage();
    const sim0 = simCpuMs(sim.pid);
    // Main-thread GC pauses by kind while the ingest runs (page parsing allocates ~50 objects per CDR).
    let explicitGc = '';
    const gcMs = { minor: 0, major: 0, other: 0 };
    const gcObserver = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = (e as { detail?: { kind?: number } }).detail?.kind;
        gcMs[
          kind === perfConstants.NODE_PERFORMANCE_GC_MINOR ? 'minor' : kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR ? 'major' : 'other'
        ] += e.duration;
      }
    });
    gcObserver.observe({ entryTypes: ['gc'] });
    t0 = performance.now();
    const summary = await runIngest({
      dataDir,
      config,
      source,
      clock: new FixedClock(NOW),
      logger: createLogger({ level: 'debug', destination: sink }),
      concurrency: C,
      from: FROM,
      to: TO,
      onProgress: (p) => progress.push({ t: at(), phase: p.phase }),
    });
    const wall = at();
    gcObserver.disconnect();
    const cpu = process.cpuUsage(cpu0);
    const threads1 = threadCpu();
    const byName = new Map<string, number>();
    for (const [tid, t] of threads1)
      byName.set(tid === String(process.pid) ? 'main' : t.name, (byName.get(t.name) ?? 0) + t.ms - (threads0.get(tid)?.ms ?? 0));
    console.log(
      `  threads: ${[...byName]
        .filter(([, ms]) => ms > 5)
        .map(([n, ms]) => `${n} ${ms.toFixed(0)}`)
        .join(', ')}`,
    );
    console.log(
      `  GC pauses on the main thread: minor ${gcMs.minor.toFixed(0)} ms, major ${gcMs.major.toFixed(0)} ms, other ${gcMs.other.toFixed(0)} ms${explicitGc ? `; ${explicitGc}` : ''}`,
    );
    const simIngest = simCpuMs(sim.pid) - sim0;
    const cpuF = process.cpuUsage();
    const simF0 = simCpuMs(sim.pid);
    const floor = await floorOnce(started.url, minimum.plan, config.ingest.pageSize);
    const cpuFloor = process.cpuUsage(cpuF);
    console.log(
      `  CPU: ingest process ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms (user ${(cpu.user / 1000).toFixed(0)}), simulator ${simIngest.toFixed(0)} ms; ` +
        `floor: client ${((cpuFloor.user + cpuFloor.system) / 1000).toFixed(0)} ms, simulator ${(simCpuMs(sim.pid) - simF0).toFixed(0)} ms`,
    );
    console.log(
      `run ${run + 1}: ingest ${wall.toFixed(0)} ms (${summary.rowsFetched} rows, ${summary.requests} requests, ${summary.partitionsWritten} partitions written); ` +
        `floor ${floor.toFixed(0)} ms; ratio ${(wall / floor).toFixed(2)}`,
    );
    console.log(
      `  requests: first sent ${sent[0]?.toFixed(0)} ms, last answered ${Math.max(...answered).toFixed(0)} ms; ` +
        `progress: ${[...new Set(progress.map((p) => p.phase))].map((ph) => `${ph}@${progress.find((p) => p.phase === ph)!.t.toFixed(0)}`).join(' ')}`,
    );
    // Requests in flight, time-weighted, between the first send and the last answer.
    {
      const ev: [number, number][] = [];
      for (const r of reqs) ev.push([r.sent, 1], [r.done ?? r.head ?? r.sent, -1]);
      ev.sort((a, b) => a[0] - b[0]);
      let cur = 0;
      let last = ev[0]![0];
      let area = 0;
      const hist = new Map<number, number>();
      for (const [t, d] of ev) {
        area += cur * (t - last);
        hist.set(cur, (hist.get(cur) ?? 0) + (t - last));
        last = t;
        cur += d;
      }
      const span = ev.at(-1)![0] - ev[0]![0];
      console.log(
        `  in flight: mean ${(area / span).toFixed(1)} over ${span.toFixed(0)} ms; ms at each level: ${[...hist]
          .sort((a, b) => a[0] - b[0])
          .map(([k, v]) => `${k}:${v.toFixed(0)}`)
          .join(' ')}`,
      );
      const lat = reqs.map((r) => (r.done ?? 0) - r.sent).sort((a, b) => a - b);
      console.log(
        `  request time p10 ${lat[Math.floor(lat.length * 0.1)]!.toFixed(0)} p50 ${lat[Math.floor(lat.length / 2)]!.toFixed(0)} p90 ${lat[Math.floor(lat.length * 0.9)]!.toFixed(0)} ms`,
      );
      if (values.verbose)
        for (const r of reqs)
          console.log(
            `    ${r.what.padEnd(40)} ${r.sent.toFixed(0).padStart(6)} ${(r.head ?? NaN).toFixed(0).padStart(6)} ${(r.done ?? NaN).toFixed(0).padStart(6)}`,
          );
    }
    for (const [msg, e] of firstAndLast(steps, (s) => s.msg))
      console.log(`  ${e.first.toFixed(0).padStart(6)} .. ${e.last.toFixed(0).padStart(6)} ms  x${e.n}  ${msg}`);
    const byLane = new Map<number, { busy: number; n: number; first: number; last: number }>();
    for (const s of laneSpans) {
      const e = byLane.get(s.lane) ?? { busy: 0, n: 0, first: s.start, last: s.end };
      e.busy += s.end - s.start;
      e.n++;
      e.first = Math.min(e.first, s.start);
      e.last = Math.max(e.last, s.end);
      byLane.set(s.lane, e);
    }
    for (const [lane, e] of [...byLane].sort((a, b) => a[0] - b[0]))
      console.log(
        `  ${lane < 0 ? 'publish' : `lane ${lane}`}: ${e.n} tasks, busy ${e.busy.toFixed(0)} ms, ${e.first.toFixed(0)} .. ${e.last.toFixed(0)} ms`,
      );
    console.log(
      `  batches (partitions: start .. end): ${batches.map((b) => `${b.n}: ${b.start.toFixed(0)} .. ${b.end.toFixed(0)}`).join(' | ')}`,
    );
    batches.length = 0;
    console.log(
      `  lane tasks: ${laneSpans
        .filter((s) => s.kind === 'db')
        .map((s) => `${s.lane}:${s.start.toFixed(0)}+${(s.end - s.start).toFixed(0)}`)
        .join(' ')}`,
    );
    await rm(dataDir, { recursive: true, force: true });
  }
} finally {
  await sim.call('stop').catch(() => undefined);
  await sim.close();
  await rm(work, { recursive: true, force: true });
}

/** CPU milliseconds a process has used (user + system, from /proc). */
function simCpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

/** CPU milliseconds per thread of this process. */
function threadCpu(): Map<string, { name: string; ms: number }> {
  const out = new Map<string, { name: string; ms: number }>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const raw = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = raw.slice(raw.indexOf('(') + 1, raw.lastIndexOf(')'));
      const f = raw.slice(raw.lastIndexOf(') ') + 2).split(' ');
      out.set(tid, { name, ms: ((Number(f[11]) + Number(f[12])) * 1000) / 100 });
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** The bench's floor (bench/workers/ingest.ts), here in this process. */
async function floorOnce(url: string, plan: readonly PlannedRequest[], pageSize: number): Promise<number> {
  const limit = pLimit(C);
  const base = url.replace(/\/$/, '');
  const t = performance.now();
  await Promise.all(
    plan.map((r) =>
      limit(async () => {
        const window = { start: new Date(r.start), end: new Date(r.end) };
        const query = new URLSearchParams(
          r.kind === 'count' ? windowQuery(window) : { ...windowQuery(window), start: String(r.offset ?? 0), limit: String(pageSize) },
        );
        const res = await fetch(`${base}${domainPath(r.domain)}/cdrs${r.kind === 'count' ? '/count' : ''}?${query}`, {
          headers: { accept: 'application/json', authorization: 'Bearer bench-key' },
        });
        await res.arrayBuffer();
      }),
    ),
  );
  return performance.now() - t;
}
