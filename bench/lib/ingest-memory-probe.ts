/**
 * What the memory tools (`bench/backfill-memory.ts`, `bench/tick-memory.ts`) watch while an ingest
 * runs in their own process: VmRSS, V8's heap and spaces, Buffers and the lake writer's
 * `duckdb_memory()` every few ms, the run's steps from its debug log, the DuckDB instances opened
 * and the merger's batches. Installing it patches `LakeWriter.open`, `Db.open` and
 * `PartitionMerger.flushBatch` of this process, so install it once, before the ingest.
 */
import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadConfig } from '../../pipeline/config/load-config.ts';
import { Db } from '../../pipeline/db/duckdb.ts';
import { PartitionMerger } from '../../pipeline/extract/partition-merge.ts';
import { runIngest } from '../../pipeline/extract/run-ingest.ts';
import { LakeWriter } from '../../pipeline/lake/lake-writer.ts';
import { NetSapiensClient } from '../../pipeline/source/netsapiens-client.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { createLogger } from '../../pipeline/util/logger.ts';
import { BENCH_NOW } from './extraction-setup.ts';
import { firstAndLast } from './timeline.ts';

const MiB = 2 ** 20;

/** This process's resident set now and its high-water mark, in bytes. */
export async function vmStatus(): Promise<{ rss: number; hwm: number }> {
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

interface Sample {
  t: number;
  rss: number;
  heap: number;
  total: number;
  young: number;
  old: number;
  ext: number;
  buf: number;
  duck: number;
}

/** The probe's command-line options, for a tool's `parseArgs` (see {@link probeOptions}). */
export const PROBE_ARGS = {
  every: { type: 'string', default: '20' },
  set: { type: 'string', multiple: true, default: [] as string[] },
  'gc-ms': { type: 'string' },
} as const;

/** {@link ProbeOptions} from the parsed {@link PROBE_ARGS}. */
export function probeOptions(values: { every: string; set: string[]; 'gc-ms'?: string | undefined }): ProbeOptions {
  return {
    everyMs: Number(values.every),
    writerSettings: values.set,
    ...(values['gc-ms'] ? { gcEveryMs: Number(values['gc-ms']) } : {}),
  };
}

export interface ProbeOptions {
  /** Sampling period. */
  everyMs: number;
  /** `name=value` settings SET on the writer's instance for one run. */
  writerSettings: readonly string[];
  /** A full collection every this many ms during the run (what V8's garbage costs it). */
  gcEveryMs?: number;
}

/** One ingest watched: see the module comment. */
export class IngestMemoryProbe {
  /** Give this to the ingest's logger (level debug): its lines become the steps. */
  readonly sink: Writable;
  private readonly steps: { t: number; msg: string }[] = [];
  private readonly samples: Sample[] = [];
  private readonly opens = new Map<string, number>();
  private batches = 0;
  private batchParts = 0;
  private writerDb: Db | undefined;
  private t0 = 0;

  private constructor(private readonly opts: ProbeOptions) {
    this.sink = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        for (const l of chunk.toString().split('\n'))
          if (l.trim()) this.steps.push({ t: this.at(), msg: (JSON.parse(l) as { msg: string }).msg });
        cb();
      },
    });
  }

  static install(opts: ProbeOptions): IngestMemoryProbe {
    const probe = new IngestMemoryProbe(opts);
    const open = LakeWriter.open.bind(LakeWriter);
    LakeWriter.open = async (...a: Parameters<typeof LakeWriter.open>) => {
      const w = await open(...a);
      // The writer's instance, read on a connection of its own.
      probe.writerDb = await (w as unknown as { laneDbs: Db[] }).laneDbs[0]!.connect();
      for (const kv of opts.writerSettings) await probe.writerDb.run(`SET ${kv}`);
      return w;
    };
    const dbOpen = Db.open.bind(Db);
    Db.open = async (...a: Parameters<typeof Db.open>) => {
      const key = a[0] === ':memory:' ? ':memory:' : a[0].split('/').at(-1)!;
      probe.opens.set(key, (probe.opens.get(key) ?? 0) + 1);
      probe.steps.push({ t: probe.at(), msg: `open ${key}` });
      return dbOpen(...a);
    };
    const mergerProto = PartitionMerger.prototype as unknown as Record<string, (...a: unknown[]) => Promise<void>>;
    const flushBatch = mergerProto.flushBatch!;
    mergerProto.flushBatch = function (this: unknown, ...a: unknown[]) {
      probe.batches++;
      probe.batchParts += (a[0] as unknown[]).length;
      return flushBatch.apply(this, a);
    };
    return probe;
  }

  private at(): number {
    return performance.now() - this.t0;
  }

  /** Runs `ingest` with the sampler (and the collections of `gcEveryMs`) going; the wall time is from the start of `ingest`. */
  async watch<T>(ingest: () => Promise<T>): Promise<{ result: T; wallMs: number }> {
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const m = process.memoryUsage();
        let duck = NaN;
        if (this.writerDb) {
          const rows = await this.writerDb
            .all<{ b: string | number }>('SELECT sum(memory_usage_bytes)::BIGINT AS b FROM duckdb_memory()')
            .catch(() => [{ b: NaN }]);
          duck = Number(rows[0]?.b ?? NaN);
        }
        const { rss } = await vmStatus();
        this.samples.push({
          t: this.at(),
          rss,
          heap: m.heapUsed,
          total: m.heapTotal,
          ...spaces(),
          ext: m.external,
          buf: m.arrayBuffers,
          duck,
        });
        await new Promise((r) => setTimeout(r, this.opts.everyMs));
      }
    })();
    const gcTimer = this.opts.gcEveryMs
      ? (setFlagsFromString('--expose-gc'), setInterval(runInNewContext('gc') as () => void, this.opts.gcEveryMs))
      : undefined;
    this.t0 = performance.now();
    try {
      const result = await ingest();
      return { result, wallMs: this.at() };
    } finally {
      sampling = false;
      clearInterval(gcTimer);
      await sampler;
    }
  }

  /**
   * One ingest of the simulator at `url` into `dataDir` (the repository's config at `concurrency`),
   * watched; prints the RSS before it and its summary with the peak after it.
   */
  async ingest(
    label: string,
    opts: { url: string; dataDir: string; from: Date; to: Date; concurrency: number; writerMemoryLimit?: string },
  ): Promise<void> {
    const config = await loadConfig();
    const before = await vmStatus();
    console.log(`before the ${label}: RSS ${(before.rss / MiB).toFixed(0)} MiB, HWM ${(before.hwm / MiB).toFixed(0)} MiB`);
    const C = opts.concurrency;
    const { result: summary, wallMs } = await this.watch(() =>
      runIngest({
        dataDir: opts.dataDir,
        config: { ...config, ingest: { ...config.ingest, concurrency: C } },
        source: NetSapiensClient.create({ baseUrl: opts.url, auth: { kind: 'api-key', apiKey: 'bench-key' }, maxConcurrentRequests: C }),
        clock: new FixedClock(BENCH_NOW),
        logger: createLogger({ level: 'debug', destination: this.sink }),
        concurrency: C,
        from: opts.from,
        to: opts.to,
        ...(opts.writerMemoryLimit ? { writerMemoryLimit: opts.writerMemoryLimit } : {}),
      }),
    );
    const after = await vmStatus();
    console.log(
      `${label}: ${summary.requests} requests, ${summary.rowsFetched} rows, ${summary.partitionsWritten} written, ` +
        `${summary.partitionsUnchanged} unchanged; wall ${wallMs.toFixed(0)} ms; peak RSS (HWM) ${(after.hwm / MiB).toFixed(1)} MiB`,
    );
  }

  /** Prints the batches and opens, about `rows` samples (the peak always) and the steps. */
  print(rows: number): void {
    console.log(
      `batches ${this.batches} (${this.batchParts} partitions); DuckDB opens: ${[...this.opens].map(([k, n]) => `${k} x${n}`).join(', ')}`,
    );
    const peak = this.samples.reduce((a, b) => (b.rss > a.rss ? b : a));
    const f = (n: number) => (n / MiB).toFixed(0).padStart(5);
    console.log('    t ms    rss   heap  total  young    old    ext    buf  duckdb');
    const step = Math.max(1, Math.floor(this.samples.length / rows));
    for (const [i, s] of this.samples.entries())
      if (i % step === 0 || s === peak)
        console.log(
          `${s.t.toFixed(0).padStart(8)} ${f(s.rss)} ${f(s.heap)} ${f(s.total)} ${f(s.young)} ${f(s.old)} ${f(s.ext)} ${f(s.buf)} ${f(s.duck)}${s === peak ? '  <- peak' : ''}`,
        );
    console.log('steps (debug log):');
    for (const [msg, e] of firstAndLast(this.steps, (s) => s.msg))
      console.log(`  ${e.first.toFixed(0).padStart(6)} .. ${e.last.toFixed(0).padStart(6)} ms  x${e.n}  ${msg}`);
  }
}
