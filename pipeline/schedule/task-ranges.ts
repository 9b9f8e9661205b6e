import { addMonths, formatMonth, parseMonth, type Month } from '../util/month.ts';
import { TZDate } from '@date-fns/tz';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The month (YYYY-MM) the wall clock shows in `timeZone` at `at`. */
export function localMonthOf(at: Date, timeZone: string): Month {
  const local = new TZDate(at.getTime(), timeZone);
  return formatMonth(local.getFullYear(), local.getMonth() + 1);
}

/** A half-open ingest range [from, to). */
export interface IngestRange {
  from: Date;
  to: Date;
}

/**
 * What the monthly job reports on and re-reads. The report month is the month before the one the
 * tick falls in (reseller's time zone). The re-read runs from a day before the month's first UTC
 * instant (customers east of UTC start their month earlier) up to now minus the settle time
 * (customers west of UTC end it later), so every customer's local month is complete.
 */
export function monthlyReportPlan(args: { tick: Date; now: Date; timeZone: string; settleMinutes: number; marginDays?: number }): {
  month: Month;
  range: IngestRange;
} {
  const month = addMonths(localMonthOf(args.tick, args.timeZone), -1);
  const { year, month: m } = parseMonth(month);
  const from = new Date(Date.UTC(year, m - 1, 1) - (args.marginDays ?? 1) * DAY);
  const to = new Date(args.now.getTime() - args.settleMinutes * 60_000);
  if (to.getTime() <= from.getTime()) {
    throw new Error(
      `monthly report for ${month}: nothing to re-read, now minus settle (${to.toISOString()}) is before ${from.toISOString()}`,
    );
  }
  return { month, range: { from, to } };
}

/** The late sweep: the previous `days` days up to now minus the settle time. */
export function lateSweepRange(args: { now: Date; days: number; settleMinutes: number }): IngestRange {
  if (!(args.days > 0)) throw new Error(`late-sweep option days must be a positive number, got ${JSON.stringify(args.days)}`);
  const to = new Date(args.now.getTime() - args.settleMinutes * 60_000);
  return { from: new Date(to.getTime() - args.days * DAY), to };
}
