/**
 * Wall time per named phase of a run, for measuring where a stage's time goes (the bench's
 * breakdowns). A stage takes one optionally and times its steps with it; without one, `time`
 * just runs the step. Phases that run side by side each count their own wall time.
 */
export interface PhaseTime {
  /** Milliseconds summed over every time the phase ran. */
  ms: number;
  /** CPU milliseconds of the whole process (every thread, DuckDB's too) while it ran. */
  cpuMs: number;
  /** How many times it ran. */
  count: number;
}

/** Accumulates wall milliseconds per phase name, in the order phases first ran. */
export class PhaseTimes {
  readonly phases = new Map<string, PhaseTime>();

  /** Adds `ms` wall and `cpuMs` CPU milliseconds to `phase`. */
  add(phase: string, ms: number, cpuMs = 0): void {
    const p = this.phases.get(phase);
    if (p) {
      p.ms += ms;
      p.cpuMs += cpuMs;
      p.count++;
    } else this.phases.set(phase, { ms, cpuMs, count: 1 });
  }

  /** A mark to pass to `end` when the step is over. */
  start(): { t0: number; cpu: NodeJS.CpuUsage } {
    return { t0: performance.now(), cpu: process.cpuUsage() };
  }

  /** Adds the wall and CPU time since `mark` to `phase`. */
  end(phase: string, mark: { t0: number; cpu: NodeJS.CpuUsage }): void {
    const cpu = process.cpuUsage(mark.cpu);
    this.add(phase, performance.now() - mark.t0, (cpu.user + cpu.system) / 1000);
  }

  /** The phases as a plain object (name -> time), in the order they first ran. */
  toJSON(): Record<string, PhaseTime> {
    return Object.fromEntries([...this.phases].map(([k, v]) => [k, { ...v }]));
  }
}

/** Runs `fn`, adding its wall time to `phase` in `times` (when given), whether it returns or throws. */
export async function timed<T>(times: PhaseTimes | undefined, phase: string, fn: () => Promise<T>): Promise<T> {
  if (!times) return fn();
  const mark = times.start();
  try {
    return await fn();
  } finally {
    times.end(phase, mark);
  }
}

/** `timed` for a synchronous step. */
export function timedSync<T>(times: PhaseTimes | undefined, phase: string, fn: () => T): T {
  if (!times) return fn();
  const mark = times.start();
  try {
    return fn();
  } finally {
    times.end(phase, mark);
  }
}
