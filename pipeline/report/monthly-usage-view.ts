/**
 * The monthly usage report's view model: a pure function from warehouse rows to display-ready
 * figures. Templates only print these strings (escaped); all arithmetic happens here, exactly.
 */
import { formatMoney, MONEY_SCALE, parseDecimal, sumMoney } from '../util/money.ts';
import { formatDuration, formatInt, formatMinutes, formatRatioPercent, formatShare, percentChange, type Change } from './format.ts';
import { localMonthPeriod, type LocalMonthPeriod } from './period.ts';
import type { CustomerMonthData, UsageMonthlyRow } from './warehouse-queries.ts';
import { addMonths } from '../util/month.ts';

export interface ViewOptions {
  resellerName: string;
  /** The customer's name as shown: config displayName, else the PBX description, else the domain. */
  customerName: string;
  timeZone: string;
  /** Currency and decimals when the month has no rated rows (the customer's plan). */
  currency: string;
  decimals: number;
  /** ISO time of rendering, shown in the footer. */
  generatedAt: string;
}

export interface TotalLine {
  label: string;
  value: string;
}
export interface ChangeLine {
  label: string;
  current: string;
  previous: string;
  change: Change;
}
export interface DayBar {
  date: string;
  day: number;
  weekday: string;
  weekend: boolean;
  calls: string;
  answered: string;
  missed: string;
  minutes: string;
  /** Bar width 0..100 (percent of the busiest day); 0 draws no bar. */
  pct: number;
  /** 100 - pct, for the empty cell beside the bar. */
  restPct: number;
}
export interface HourLine {
  hour: string;
  calls: string;
  answered: string;
  share: string;
  pct: number;
  restPct: number;
}
export interface TopTable<Row> {
  rows: Row[];
  /** How many more rows exist beyond the ones shown ("and 12 more"). */
  more: number;
}
export interface UserLine {
  rank: number;
  user: string;
  name: string;
  calls: string;
  inbound: string;
  outbound: string;
  minutes: string;
  charge: string;
}
export interface NumberLine {
  rank: number;
  number: string;
  calls: string;
  inbound: string;
  outbound: string;
  minutes: string;
}
export interface DestinationLine {
  rank: number;
  destination: string;
  callClass: string;
  calls: string;
  minutes: string;
  charge: string;
}
export interface ClassLine {
  callClass: string;
  calls: string;
  minutes: string;
  charge: string;
}

export interface MonthlyUsageView {
  reseller: string;
  customer: string;
  domain: string;
  month: string;
  period: Pick<LocalMonthPeriod, 'label' | 'range' | 'timeZone' | 'firstDay' | 'lastDay'>;
  previousLabel: string;
  empty: boolean;
  currency: string;
  /** Raw figures for machines and tests: counts/seconds as decimal text, charge as DECIMAL text. */
  raw: { calls: string; billableSeconds: string; charge: string; csvRows: number };
  headline: { calls: string; minutes: string; charge: string; billableMinutes: string };
  totals: TotalLine[];
  changes: ChangeLine[];
  charges: ClassLine[];
  chargeTotal: string;
  included: { used: string; total: string; share: string; pct: number; restPct: number } | undefined;
  quality: { asr: string; acd: string; peakConcurrent: string };
  daily: DayBar[];
  busiestHours: HourLine[];
  topUsers: TopTable<UserLine>;
  topNumbers: TopTable<NumberLine>;
  topDestinations: TopTable<DestinationLine>;
  generatedAt: string;
}

const n = (v: string | number | null | undefined): bigint => (v === null || v === undefined || v === '' ? 0n : BigInt(v));

/** Bar widths in whole percent of the maximum; a non-zero value always shows at least 1%. */
function barPct(value: bigint, max: bigint): number {
  if (max <= 0n || value <= 0n) return 0;
  const pct = Number((value * 100n) / max);
  return Math.max(1, Math.min(100, pct));
}

const CLASS_LABELS: Readonly<Record<string, string>> = {
  internal: 'Internal',
  emergency: 'Emergency',
  'toll-free': 'Toll-free',
  domestic: 'Domestic',
  international: 'International',
  premium: 'Premium',
  unknown: 'Other',
};
export const classLabel = (c: string | null): string => (c ? (CLASS_LABELS[c] ?? c) : 'Other');

function emptyUsage(month: string, tz: string, currency: string): UsageMonthlyRow {
  return {
    local_month: month,
    time_zone: tz,
    calls: '0',
    answered: '0',
    missed: '0',
    inbound_calls: '0',
    outbound_calls: '0',
    internal_calls: '0',
    inbound_s: '0',
    outbound_s: '0',
    internal_s: '0',
    talk_s: '0',
    billable_s: '0',
    included_s_used: '0',
    included_s_total: '0',
    charge: '0',
    currency,
  };
}

/** Builds the monthly usage report's figures from one customer-month of warehouse rows. */
export function buildMonthlyUsageView(data: CustomerMonthData, opts: ViewOptions): MonthlyUsageView {
  const currency = data.current?.currency || opts.currency;
  const dec = opts.decimals;
  const money = (text: string | null | undefined) => formatMoney(text ?? '0', currency, dec);
  const period = localMonthPeriod(data.month, opts.timeZone);
  const previousPeriod = localMonthPeriod(addMonths(data.month, -1), opts.timeZone);
  const cur = data.current ?? emptyUsage(data.month, opts.timeZone, currency);
  const prev = data.previous ?? emptyUsage(previousPeriod.month, opts.timeZone, currency);
  const empty = n(cur.calls) === 0n;

  const totals: TotalLine[] = [
    { label: 'Calls', value: formatInt(cur.calls) },
    { label: 'Answered', value: formatInt(cur.answered) },
    { label: 'Missed', value: formatInt(cur.missed) },
    { label: 'Inbound calls', value: formatInt(cur.inbound_calls) },
    { label: 'Outbound calls', value: formatInt(cur.outbound_calls) },
    { label: 'Internal calls', value: formatInt(cur.internal_calls) },
    { label: 'Inbound minutes', value: formatMinutes(cur.inbound_s) },
    { label: 'Outbound minutes', value: formatMinutes(cur.outbound_s) },
    { label: 'Billable minutes', value: formatMinutes(cur.billable_s) },
    { label: 'Total charges', value: money(cur.charge) },
  ];

  const changes: ChangeLine[] = [
    { label: 'Calls', current: formatInt(cur.calls), previous: formatInt(prev.calls), change: percentChange(cur.calls, prev.calls) },
    {
      label: 'Talk minutes',
      current: formatMinutes(cur.talk_s),
      previous: formatMinutes(prev.talk_s),
      change: percentChange(cur.talk_s, prev.talk_s),
    },
    {
      label: 'Billable minutes',
      current: formatMinutes(cur.billable_s),
      previous: formatMinutes(prev.billable_s),
      change: percentChange(cur.billable_s, prev.billable_s),
    },
    {
      label: 'Charges',
      current: money(cur.charge),
      previous: formatMoney(prev.charge, prev.currency || currency, dec),
      change: percentChange(parseDecimal(cur.charge, MONEY_SCALE), parseDecimal(prev.charge, MONEY_SCALE)),
    },
  ];

  const charges: ClassLine[] = data.byClass.map((r) => ({
    callClass: classLabel(r.call_class),
    calls: formatInt(r.calls),
    minutes: formatMinutes(r.billable_s),
    charge: money(r.charge),
  }));

  const includedTotal = n(cur.included_s_total);
  const includedUsed = n(cur.included_s_used);
  const included =
    includedTotal > 0n
      ? {
          used: formatMinutes(includedUsed),
          total: formatMinutes(includedTotal),
          share: formatShare(includedUsed, includedTotal),
          pct: barPct(includedUsed, includedTotal),
          restPct: 100 - barPct(includedUsed, includedTotal),
        }
      : undefined;

  const byDate = new Map(data.daily.map((d) => [d.local_date, d]));
  const maxDay = data.daily.reduce((m, d) => (n(d.calls) > m ? n(d.calls) : m), 0n);
  const daily: DayBar[] = period.days.map((day) => {
    const row = byDate.get(day.date);
    const pct = barPct(n(row?.calls), maxDay);
    return {
      date: day.date,
      day: day.day,
      weekday: day.weekday,
      weekend: day.weekend,
      calls: formatInt(row?.calls ?? '0'),
      answered: formatInt(row?.answered ?? '0'),
      missed: formatInt(row?.missed ?? '0'),
      minutes: formatMinutes(row?.talk_s ?? '0'),
      pct,
      restPct: 100 - pct,
    };
  });

  const totalCalls = n(cur.calls);
  const maxHour = data.hourly.reduce((m, h) => (n(h.calls) > m ? n(h.calls) : m), 0n);
  const busiestHours: HourLine[] = [...data.hourly]
    .filter((h) => n(h.calls) > 0n)
    .sort((a, b) => (n(b.calls) === n(a.calls) ? a.local_hour - b.local_hour : n(b.calls) > n(a.calls) ? 1 : -1))
    .slice(0, 5)
    .map((h) => {
      const pct = barPct(n(h.calls), maxHour);
      const hh = String(h.local_hour).padStart(2, '0');
      const next = String((h.local_hour + 1) % 24).padStart(2, '0');
      return {
        hour: `${hh}:00–${next}:00`,
        calls: formatInt(h.calls),
        answered: formatInt(h.answered),
        share: formatShare(h.calls, totalCalls),
        pct,
        restPct: 100 - pct,
      };
    });

  const more = (rows: { total_rows: string }[]) => (rows.length === 0 ? 0 : Math.max(0, Number(rows[0]!.total_rows) - rows.length));

  const q = data.quality;
  return {
    reseller: opts.resellerName,
    customer: opts.customerName,
    domain: data.domain,
    month: data.month,
    period: { label: period.label, range: period.range, timeZone: period.timeZone, firstDay: period.firstDay, lastDay: period.lastDay },
    previousLabel: previousPeriod.label,
    empty,
    currency,
    raw: {
      calls: n(cur.calls).toString(),
      billableSeconds: n(cur.billable_s).toString(),
      charge: sumMoney([cur.charge]),
      csvRows: data.callsCsv?.rows ?? data.billedCalls.length,
    },
    headline: {
      calls: formatInt(cur.calls),
      minutes: formatMinutes(cur.talk_s),
      charge: money(cur.charge),
      billableMinutes: formatMinutes(cur.billable_s),
    },
    totals,
    changes,
    charges,
    chargeTotal: money(cur.charge),
    included,
    quality: {
      asr: q?.asr ? formatRatioPercent(q.asr) : formatShare(cur.answered, cur.calls),
      acd: formatDuration(q?.acd_s ?? '0'),
      peakConcurrent: formatInt(q?.peak_concurrent ?? '0'),
    },
    daily,
    busiestHours,
    topUsers: {
      rows: data.users.map((u, i) => ({
        rank: i + 1,
        user: u.user_id ?? '(none)',
        name: u.name ?? '',
        calls: formatInt(u.calls),
        inbound: formatInt(u.inbound_calls),
        outbound: formatInt(u.outbound_calls),
        minutes: formatMinutes(u.talk_s),
        charge: money(u.charge),
      })),
      more: more(data.users),
    },
    topNumbers: {
      rows: data.numbers.map((r, i) => ({
        rank: i + 1,
        number: r.number ?? '(unknown)',
        calls: formatInt(r.calls),
        inbound: formatInt(r.inbound_calls),
        outbound: formatInt(r.outbound_calls),
        minutes: formatMinutes(r.talk_s),
      })),
      more: more(data.numbers),
    },
    topDestinations: {
      rows: data.destinations.map((r, i) => ({
        rank: i + 1,
        destination: r.destination ?? '(unknown)',
        callClass: classLabel(r.call_class),
        calls: formatInt(r.calls),
        minutes: formatMinutes(r.billable_s),
        charge: money(r.charge),
      })),
      more: more(data.destinations),
    },
    generatedAt: opts.generatedAt,
  };
}
