import { Cron } from 'croner';
import { ConfigError } from './errors.ts';

/**
 * Every cron question the scheduler asks, answered by one engine (croner): when the live ticks
 * fire, when the next run is as of an injected clock (status), and which tick was missed while
 * nothing ran (catch-up). node-cron cannot compute a previous tick from a given instant, and two
 * engines kept in step by hand disagree exactly where it matters (DST), so croner serves all three.
 *
 * Semantics (croner's, which are Vixie cron's):
 * - 5 fields (minute first) or 6 fields (second first); names (`MON`, `JAN`), `L` for the last day;
 * - when both day-of-month and day-of-week are restricted, a day matching EITHER fires
 *   (`0 6 13 * FRI` runs on the 13th and on every Friday), as in crontab(5);
 * - a fixed wall time inside the spring-forward gap fires at the first instant after the gap
 *   (a daily 02:30 job runs at 03:00 that night instead of not at all);
 * - a fixed wall time that happens twice (fall-back) fires once, at its first occurrence; a
 *   wildcard hour (`0 * * * *`) fires every real hour, the repeated one included.
 */

const patterns = new Map<string, Cron>();

function pattern(expr: string, timeZone: string): Cron {
  const key = `${timeZone}\u0000${expr}`;
  let c = patterns.get(key);
  if (!c) {
    try {
      c = new Cron(expr, { timezone: timeZone, paused: true });
    } catch (err) {
      throw new ConfigError(
        `bad cron expression ${JSON.stringify(expr)}: ${cronProblem(err)} (e.g. "*/15 * * * *" or "0 6 1 * *")`,
        'cron',
      );
    }
    patterns.set(key, c);
  }
  return c;
}

function cronProblem(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/^CronPattern:\s*/, '');
}

/** Why `expr` is not a valid cron expression, or undefined when it is. */
export function cronError(expr: string): string | undefined {
  if (expr.trim().split(/\s+/).length < 5) return 'needs 5 fields "min hour day month weekday" (or 6 with seconds first)';
  try {
    new Cron(expr, { paused: true });
    return undefined;
  } catch (err) {
    return cronProblem(err);
  }
}

/** The first tick strictly after `after`. */
export function nextTick(expr: string, timeZone: string, after: Date): Date {
  const next = pattern(expr, timeZone).nextRun(after);
  if (!next) throw new Error(`cron expression ${JSON.stringify(expr)} has no tick after ${after.toISOString()}`);
  return next;
}

/** The next `count` ticks after `after`. */
export function nextTicks(expr: string, timeZone: string, after: Date, count: number): Date[] {
  return pattern(expr, timeZone).nextRuns(count, after);
}

/** The latest tick at or before `atOrBefore`, or undefined when there is none. */
export function previousTick(expr: string, timeZone: string, atOrBefore: Date): Date | undefined {
  // croner looks strictly before its reference; one millisecond later makes a tick at exactly
  // `atOrBefore` count, which is what catch-up needs (a run started on its tick is not missed).
  return pattern(expr, timeZone).previousRuns(1, new Date(atOrBefore.getTime() + 1))[0];
}

/** A live schedule; `stop` ends it for good. */
export interface LiveSchedule {
  stop(): void;
}

/**
 * Calls `onTick` with the tick's scheduled instant at every tick of `expr` in `timeZone`. A tick that
 * arrives while the previous call is still running is skipped (the scheduler queues runs itself).
 */
export function scheduleTicks(expr: string, timeZone: string, onTick: (tick: Date) => Promise<void>): LiveSchedule {
  pattern(expr, timeZone); // validate with the product's error before arming
  const job = new Cron(expr, { timezone: timeZone, protect: true }, async (self: Cron) => {
    await onTick(self.currentRun() ?? new Date());
  });
  return { stop: () => job.stop() };
}
