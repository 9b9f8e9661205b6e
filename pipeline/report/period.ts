/** The calendar of a customer's local month: the days a report covers, as that customer sees them. */
import { parseMonth } from '../util/month.ts';

const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
] as const;
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;

export interface LocalDay {
  /** YYYY-MM-DD */
  date: string;
  day: number;
  weekday: (typeof WEEKDAYS)[number];
  weekend: boolean;
}

export interface LocalMonthPeriod {
  month: string;
  timeZone: string;
  /** "October 2026" */
  label: string;
  /** "1–31 October 2026, America/New_York time" */
  range: string;
  firstDay: string;
  lastDay: string;
  days: LocalDay[];
}

/** Days of `month` in the customer's calendar; calendar dates do not depend on the zone, only which calls fall on them. */
export function localMonthPeriod(month: string, timeZone: string): LocalMonthPeriod {
  const { year, month: m } = parseMonth(month);
  const count = new Date(Date.UTC(year, m, 0)).getUTCDate();
  const days: LocalDay[] = [];
  for (let d = 1; d <= count; d++) {
    const wd = new Date(Date.UTC(year, m - 1, d)).getUTCDay();
    days.push({ date: `${month}-${String(d).padStart(2, '0')}`, day: d, weekday: WEEKDAYS[wd]!, weekend: wd === 0 || wd === 6 });
  }
  const name = MONTH_NAMES[m - 1]!;
  return {
    month,
    timeZone,
    label: `${name} ${year}`,
    range: `1–${count} ${name} ${year}, ${timeZone} time`,
    firstDay: days[0]!.date,
    lastDay: days[count - 1]!.date,
    days,
  };
}
