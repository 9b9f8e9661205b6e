import { median } from './stats.ts';

/** Milliseconds elapsed while `fn` runs, on the monotonic clock. */
export async function timeIt<T>(fn: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const t0 = performance.now();
  const result = await fn();
  return { ms: performance.now() - t0, result };
}

/**
 * Wall and CPU time (user + system, this process) while `fn` runs. DuckDB's threads run in this
 * process, so its CPU counts too; anything else the process does meanwhile counts as well.
 */
export async function timeWithCpu<T>(fn: () => Promise<T>): Promise<{ ms: number; cpuMs: number; result: T }> {
  const c0 = process.cpuUsage();
  const t = await timeIt(fn);
  const used = process.cpuUsage(c0);
  return { ...t, cpuMs: (used.user + used.system) / 1000 };
}

export interface RepeatOptions {
  /** Measured runs after the warm-up (at least 3). */
  runs: number;
  /** Called before each run (warm-up included) with the run index, -1 for the warm-up; not timed. */
  before?: (run: number) => Promise<void>;
  /** Called after each run with its result; not timed. */
  after?: (run: number) => Promise<void>;
  label?: string;
  log?: (line: string) => void;
}

/** Runs `fn` once to warm up, then `runs` times; returns every measured sample. */
export async function repeat<T>(
  fn: (run: number) => Promise<T>,
  opts: RepeatOptions,
): Promise<{ ms: number[]; results: T[]; medianMs: number }> {
  const ms: number[] = [];
  const results: T[] = [];
  for (let run = -1; run < opts.runs; run++) {
    await opts.before?.(run);
    const t = await timeIt(() => fn(run));
    await opts.after?.(run);
    opts.log?.(`${opts.label ?? 'run'} ${run < 0 ? 'warm-up' : `${run + 1}/${opts.runs}`}: ${t.ms.toFixed(0)} ms`);
    if (run >= 0) {
      ms.push(t.ms);
      results.push(t.result);
    }
  }
  return { ms, results, medianMs: median(ms) };
}

export interface PairSample<A, B> {
  aMs: number;
  bMs: number;
  ratio: number;
  a: A;
  b: B;
}

/**
 * Runs A then B back to back, once to warm up and then `runs` times, so every ratio a/b comes
 * from one pair measured under the same machine load. The reported ratio is the median of the
 * per-pair ratios, not the ratio of medians.
 */
export async function repeatPairs<A, B>(
  a: (run: number) => Promise<A>,
  b: (run: number) => Promise<B>,
  opts: RepeatOptions & { beforeA?: (run: number) => Promise<void>; beforeB?: (run: number) => Promise<void> },
): Promise<{ samples: PairSample<A, B>[]; medianRatio: number; medianAMs: number; medianBMs: number }> {
  const samples: PairSample<A, B>[] = [];
  for (let run = -1; run < opts.runs; run++) {
    await opts.before?.(run);
    await opts.beforeA?.(run);
    const ta = await timeIt(() => a(run));
    await opts.beforeB?.(run);
    const tb = await timeIt(() => b(run));
    await opts.after?.(run);
    const ratio = ta.ms / tb.ms;
    opts.log?.(
      `${opts.label ?? 'pair'} ${run < 0 ? 'warm-up' : `${run + 1}/${opts.runs}`}: a ${ta.ms.toFixed(0)} ms, b ${tb.ms.toFixed(0)} ms, a/b ${ratio.toFixed(3)}`,
    );
    if (run >= 0) samples.push({ aMs: ta.ms, bMs: tb.ms, ratio, a: ta.result, b: tb.result });
  }
  return {
    samples,
    medianRatio: median(samples.map((s) => s.ratio)),
    medianAMs: median(samples.map((s) => s.aMs)),
    medianBMs: median(samples.map((s) => s.bMs)),
  };
}
