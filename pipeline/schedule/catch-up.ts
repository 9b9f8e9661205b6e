import { previousTick } from '../util/cron.ts';

/**
 * The one tick to catch up on start, if any: the latest tick at or before `now` that came after
 * the job's last recorded run (or, for a job that never ran, after the scheduler first knew it).
 * Several missed ticks collapse into this one run: the jobs read from watermarks and months,
 * so running the latest missed tick covers the earlier ones.
 */
export function missedTick(args: {
  cron: string;
  timeZone: string;
  /** Start of the job's last recorded run (any trigger). */
  lastRunAt: Date | undefined;
  /** When the scheduler first registered the job; undefined on the very first start. */
  knownSince: Date | undefined;
  now: Date;
}): Date | undefined {
  const since = latest(args.lastRunAt, args.knownSince);
  if (!since) return undefined;
  const tick = previousTick(args.cron, args.timeZone, args.now);
  return tick && tick.getTime() > since.getTime() ? tick : undefined;
}

function latest(a: Date | undefined, b: Date | undefined): Date | undefined {
  if (!a) return b;
  if (!b) return a;
  return a.getTime() >= b.getTime() ? a : b;
}
