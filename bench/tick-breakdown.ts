/**
 * Where one reseller-wide tick's time goes, on the `reseller-tick` scenario's setup (simulator in
 * its own process, 25 ms latency, C=8, watermarks and domain list as the tick before left them):
 * a timeline of every request (sent, first byte, body read, parsed) and of the run's steps
 * (state read, writer open, windows kept, partitions written, watermarks), then the simulator's
 * own time per request with no latency (what a page costs it to answer).
 *
 *   npx tsx bench/tick-breakdown.ts [--domains 100] [--dir /tmp/x] [--all]
 *
 * `--all` prints every request (by default the first and last 12).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { loadConfig } from '../pipeline/config/load-config.ts';
import { runIngest } from '../pipeline/extract/run-ingest.ts';
import { IngestIncompleteError } from '../pipeline/extract/ingest-summary.ts';
import { NetSapiensClient, windowQuery } from '../pipeline/source/netsapiens-client.ts';
import { advanceWatermarkRow, withState, writeDomainList } from '../pipeline/state/index.ts';
import { FixedClock } from '../pipeline/util/clock.ts';
import { createLogger } from '../pipeline/util/logger.ts';
import { startWorker } from './lib/worker.ts';
import { firstAndLast } from './lib/timeline.ts';
import { lowerBoundMs, patternRounds, type PlannedRequest, type RequestTally } from './lib/request-bound.ts';
import { LakeWriter } from '../pipeline/lake/lake-writer.ts';
import { PartitionMerger } from '../pipeline/extract/partition-merge.ts';
import { SharedRunner } from '../pipeline/extract/reseller-runner.ts';

const { values } = parseArgs({
  options: { domains: { type: 'string', default: '100' }, dir: { type: 'string' }, all: { type: 'boolean', default: false } },
});
const DOMAINS = Number(values.domains);
const LATENCY_MS = 25;
const C = 8;
const NOW = new Date('2026-11-20T00:00:00Z');
const WATERMARK = new Date(NOW.getTime() - 30 * 60_000);

interface RequestMark {
  what: string;
  sent: number;
  firstByte?: number;
  bodyRead?: number;
  parsed?: number;
  bytes?: number;
}

const work = values.dir ?? (await mkdtemp(join(os.tmpdir(), 'cdrpipe-tick-breakdown-')));
const sim = await startWorker('simulator');
try {
  const started = await sim.call<{ url: string; domains: string[] }>('start', {
    seed: 7,
    domains: DOMAINS,
    volume: 1,
    dataFrom: new Date(NOW.getTime() - 4 * 86_400_000),
    dataTo: NOW,
    now: NOW,
    faults: { latencyMs: LATENCY_MS },
  });
  const base = await loadConfig();
  const config = { ...base, ingest: { ...base.ingest, concurrency: C } };
  const from = new Date(WATERMARK.getTime() - config.ingest.lookbackHours * 3_600_000);
  const to = new Date(NOW.getTime() - config.ingest.settleMinutes * 60_000);
  // As the scenario does before its ticks (it generates the simulator's days).
  const minimum = await sim.call<RequestTally & { plan: PlannedRequest[] }>('resellerMinimum', {
    from,
    to,
    rowBudget: config.ingest.rowBudget,
    pageSize: config.ingest.pageSize,
    minWindowMinutes: config.ingest.minWindowMinutes,
    plan: true,
  });
  const minReq = minimum.counts + minimum.lists;
  console.log(
    `minimum ${minReq} requests (${minimum.counts} counts + ${minimum.lists} pages); lower bound ${lowerBoundMs(minReq, C, LATENCY_MS).toFixed(1)} ms; ` +
      `request-pattern bound ${patternRounds(minimum.plan, C) * LATENCY_MS} ms`,
  );
  const dataDir = join(work, 'data');
  await rm(dataDir, { recursive: true, force: true });
  await withState(dataDir, async (db) => {
    for (const d of started.domains) await advanceWatermarkRow(db, d, WATERMARK, NOW);
    await writeDomainList(db, started.domains, new Date(NOW.getTime() - 15 * 60_000));
  });

  let t0 = 0;
  const at = () => performance.now() - t0;
  const marks: RequestMark[] = [];
  const timedFetch: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const m: RequestMark = {
      what: `${url.pathname.replace(/^.*\/v2/, '')}${url.searchParams.get('start') ? ` @${url.searchParams.get('start')}` : ''}`,
      sent: at(),
    };
    marks.push(m);
    const res = await fetch(input, init);
    m.firstByte = at();
    const arrayBuffer = res.arrayBuffer.bind(res);
    const text = res.text.bind(res);
    Object.assign(res, {
      arrayBuffer: async () => {
        const b = await arrayBuffer();
        m.bodyRead = at();
        m.bytes = b.byteLength;
        return b;
      },
      text: async () => {
        const s = await text();
        m.bodyRead = at();
        m.bytes = s.length;
        return s;
      },
    });
    return res;
  };
  const source = NetSapiensClient.create({
    baseUrl: started.url,
    auth: { kind: 'api-key', apiKey: 'nsr_bench' },
    maxConcurrentRequests: C,
    fetch: timedFetch,
  });
  // When each request's answer was parsed: the client method resolving.
  const wrap = <K extends 'countAllCdrs' | 'fetchAllCdrPage'>(k: K) => {
    const orig = source[k].bind(source) as (...a: unknown[]) => Promise<unknown>;
    (source as unknown as Record<string, unknown>)[k] = async (...a: unknown[]) => {
      const r = await orig(...a);
      // The request this call sent: the last one of its kind and offset.
      const what = k === 'countAllCdrs' ? '/cdrs/count' : `/cdrs @${String(a[1])}`;
      const m = marks.findLast((x) => x.what === what && x.parsed === undefined);
      if (m) m.parsed = at();
      return r;
    };
  };
  wrap('countAllCdrs');
  wrap('fetchAllCdrPage');

  const steps: { t: number; msg: string }[] = [];
  const warnings: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) {
        if (!l.trim()) continue;
        const entry = JSON.parse(l) as { msg: string; level: number; err?: unknown };
        steps.push({ t: at(), msg: entry.msg });
        // Warnings and errors are printed whole: a batch that fell back says why.
        if (entry.level >= 40) warnings.push(`${at().toFixed(0)} ms: ${entry.msg} ${JSON.stringify(entry.err ?? '')}`);
      }
      cb();
    },
  });
  const progress: { t: number; phase: string; requests: number }[] = [];
  // Spans of the writer's and the merger's steps.
  const spans: { name: string; start: number; end: number; n: number }[] = [];
  const timeMethod = (proto: object, name: string, size: (a: unknown[]) => number) => {
    const rec = proto as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const orig = rec[name]!;
    rec[name] = async function (this: unknown, ...a: unknown[]) {
      const span = { name, start: at(), end: NaN, n: size(a) };
      spans.push(span);
      try {
        return await orig.apply(this, a);
      } finally {
        span.end = at();
      }
    };
  };
  timeMethod(PartitionMerger.prototype, 'flushBatch', (a) => (a[0] as unknown[]).length);
  timeMethod(LakeWriter.prototype, 'writePartitions', (a) => (a[0] as unknown[]).length);
  timeMethod(LakeWriter.prototype, 'close', () => 0);
  // A shared window's spooling of its domains' shares (the window holds its slot until it ends).
  timeMethod(SharedRunner.prototype, 'keep', (a) => (a[1] as { routed: { shares: Map<string, unknown> } }).routed.shares.size);
  timeMethod(LakeWriter.prototype, 'writeRejects', (a) => (a[0] as unknown[]).length);
  t0 = performance.now();
  // A run with failed windows still has a timeline: its summary comes with the error.
  const summary = await runIngest({
    dataDir,
    config,
    source,
    clock: new FixedClock(NOW),
    logger: createLogger({ level: 'debug', destination: sink }),
    concurrency: C,
    onProgress: (p) => progress.push({ t: at(), phase: p.phase, requests: p.requests }),
  }).catch((err: unknown) => {
    if (!(err instanceof IngestIncompleteError)) throw err;
    const first = err.summary.failures[0];
    console.log(`INCOMPLETE: ${err.summary.failures.length} failure(s), first: ${first?.domain}: ${first?.error.split('\n')[0]}`);
    return err.summary;
  });
  const wall = at();
  console.log(
    `${DOMAINS} domains: ${summary.rowsFetched} rows, ${summary.requests} requests, ${summary.partitionsWritten} partitions; wall ${wall.toFixed(0)} ms`,
  );
  console.log('request                                 sent  1st byte  body  parsed   bytes');
  for (const m of marks.length > 24 && !values.all ? [...marks.slice(0, 12), ...marks.slice(-12)] : marks)
    console.log(
      `${m.what.padEnd(38)} ${m.sent.toFixed(0).padStart(5)} ${(m.firstByte ?? NaN).toFixed(0).padStart(8)} ${(m.bodyRead ?? NaN).toFixed(0).padStart(5)} ${(m.parsed ?? NaN).toFixed(0).padStart(7)} ${String(m.bytes ?? '').padStart(8)}`,
    );
  const lastAnswer = Math.max(...marks.map((m) => m.parsed ?? m.bodyRead ?? 0));
  const lastBody = Math.max(...marks.map((m) => m.bodyRead ?? 0));
  console.log(`last request parsed at ${lastAnswer.toFixed(0)} ms`);
  console.log(
    `SUMMARY first request sent ${marks[0]?.sent.toFixed(0)} ms, pages sent ${marks[1]?.sent.toFixed(0)} ms, last body read ${lastBody.toFixed(0)} ms, last parsed ${lastAnswer.toFixed(0)} ms, wall ${wall.toFixed(0)} ms`,
  );
  const firstGrowth = progress.find((p) => p.requests === summary.requests);
  console.log(`the bench's "requests answered after" (first progress event seeing every request): ${firstGrowth?.t.toFixed(0)} ms`);
  for (const w of warnings.slice(0, 5)) console.log(`WARN ${w}`);
  console.log('steps (debug log):');
  for (const [msg, e] of firstAndLast(steps, (s) => s.msg))
    console.log(`  ${e.first.toFixed(0).padStart(6)} .. ${e.last.toFixed(0).padStart(6)} ms  x${e.n}  ${msg}`);
  for (const sp of spans) console.log(`  span ${sp.name}(${sp.n}): ${sp.start.toFixed(0)} .. ${sp.end.toFixed(0)} ms`);
  // Partitions flushed together (one batch's results land within a few ms of each other).
  const flushes = steps.filter((s) => s.msg === 'partition range flushed').map((s) => s.t);
  const groups: { at: number; n: number }[] = [];
  for (const t of flushes) {
    const g = groups.at(-1);
    if (g && t - g.at < 15) g.n++;
    else groups.push({ at: t, n: 1 });
  }
  console.log(`  flushes in groups: ${groups.map((g) => `${g.n}@${g.at.toFixed(0)}`).join(' ')}`);
  for (const [phase, e] of firstAndLast(progress, (p) => p.phase))
    console.log(`  progress ${phase}: ${e.first.toFixed(0)} .. ${e.last.toFixed(0)} ms (x${e.n})`);

  // The simulator's own time per request: latency off, one request at a time.
  await sim.call('setFaults', { latencyMs: 0 });
  const q = new URLSearchParams(windowQuery({ start: from, end: to }));
  const headers = { accept: 'application/json', authorization: 'Bearer nsr_bench' };
  for (const path of ['/cdrs/count', '/cdrs?start=0&limit=1000', '/cdrs?start=3000&limit=1000']) {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const res = await fetch(`${started.url}${path}${path.includes('?') ? '&' : '?'}${q}`, { headers });
      await res.arrayBuffer();
      times.push(performance.now() - t);
    }
    console.log(`simulator, no latency, ${path}: ${times.map((t) => t.toFixed(1)).join(' ')} ms`);
  }
} finally {
  await sim.call('stop').catch(() => undefined);
  await sim.close();
  if (!values.dir) await rm(work, { recursive: true, force: true });
}
