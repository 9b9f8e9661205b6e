import { describe, expect, it } from 'vitest';
import { buildMonthlyUsageView } from '../../pipeline/report/monthly-usage-view.ts';
import type { CustomerMonthData, UsageMonthlyRow } from '../../pipeline/report/warehouse-queries.ts';

const usage = (month: string, over: Partial<UsageMonthlyRow> = {}): UsageMonthlyRow => ({
  local_month: month,
  time_zone: 'America/New_York',
  calls: '10',
  answered: '8',
  missed: '2',
  inbound_calls: '4',
  outbound_calls: '5',
  internal_calls: '1',
  inbound_s: '600',
  outbound_s: '900',
  internal_s: '30',
  talk_s: '1530',
  billable_s: '1500',
  included_s_used: '900',
  included_s_total: '30000',
  charge: '1.230000',
  currency: 'USD',
  ...over,
});

const base = (over: Partial<CustomerMonthData> = {}): CustomerMonthData => ({
  domain: 'a.example',
  month: '2026-10',
  current: usage('2026-10'),
  previous: usage('2026-09', { calls: '8', charge: '1.000000', talk_s: '1530', billable_s: '1000' }),
  byClass: [{ call_class: 'domestic', calls: '9', billable_s: '1500', charge: '1.230000' }],
  daily: [
    { local_date: '2026-10-01', calls: '4', answered: '3', missed: '1', talk_s: '600', charge: '0.5' },
    { local_date: '2026-10-31', calls: '6', answered: '5', missed: '1', talk_s: '930', charge: '0.73' },
  ],
  hourly: [
    { local_hour: 9, calls: '3', answered: '3' },
    { local_hour: 14, calls: '5', answered: '4' },
    { local_hour: 8, calls: '3', answered: '1' },
    { local_hour: 23, calls: '0', answered: '0' },
  ],
  users: [
    {
      user_id: '101',
      name: 'Ann',
      calls: '6',
      inbound_calls: '2',
      outbound_calls: '4',
      talk_s: '900',
      billable_s: '900',
      charge: '1.000000',
      total_rows: '25',
    },
  ],
  numbers: [],
  destinations: [],
  quality: { calls: '10', answered: '8', missed: '2', asr: '0.8000', acd_s: '191', peak_concurrent: '3' },
  billedCalls: [],
  ...over,
});

const opts = { resellerName: 'R', customerName: 'A', timeZone: 'America/New_York', currency: 'USD', decimals: 2, generatedAt: 'now' };

describe('monthly usage view model', () => {
  it('fills every day of the local month and scales bars to the busiest day', () => {
    const v = buildMonthlyUsageView(base(), opts);
    expect(v.daily).toHaveLength(31);
    expect(v.daily[0]).toMatchObject({ date: '2026-10-01', calls: '4', pct: 66, restPct: 34 });
    expect(v.daily[1]).toMatchObject({ calls: '0', pct: 0, restPct: 100 });
    expect(v.daily[30]).toMatchObject({ date: '2026-10-31', weekday: 'Sat', weekend: true, pct: 100, restPct: 0 });
  });
  it('orders busiest hours by calls, then by hour, skipping empty hours', () => {
    const v = buildMonthlyUsageView(base(), opts);
    expect(v.busiestHours.map((h) => h.hour)).toEqual(['14:00–15:00', '08:00–09:00', '09:00–10:00']);
    expect(v.busiestHours[0]).toMatchObject({ share: '50.0%', pct: 100 });
  });
  it('computes totals, month-over-month change, included minutes and quality exactly', () => {
    const v = buildMonthlyUsageView(base(), opts);
    expect(v.headline).toEqual({ calls: '10', minutes: '25.5', charge: '$1.23', billableMinutes: '25.0' });
    expect(v.changes.map((c) => [c.label, c.change.text])).toEqual([
      ['Calls', '+25.0%'],
      ['Talk minutes', '0.0%'],
      ['Billable minutes', '+50.0%'],
      ['Charges', '+23.0%'],
    ]);
    expect(v.included).toEqual({ used: '15.0', total: '500.0', share: '3.0%', pct: 3, restPct: 97 });
    expect(v.quality).toEqual({ asr: '80.0%', acd: '3:11', peakConcurrent: '3' });
    expect(v.topUsers.more).toBe(24);
    expect(v.raw).toEqual({ calls: '10', billableSeconds: '1500', charge: '1.230000', csvRows: 0 });
    expect(v.empty).toBe(false);
  });
  it('an empty month with no previous month is a valid view', () => {
    const v = buildMonthlyUsageView(
      base({ current: undefined, previous: undefined, byClass: [], daily: [], hourly: [], users: [], quality: undefined }),
      opts,
    );
    expect(v.empty).toBe(true);
    expect(v.headline.charge).toBe('$0.00');
    expect(v.changes.every((c) => c.change.trend === 'none')).toBe(true);
    expect(v.daily.every((d) => d.pct === 0)).toBe(true);
    expect(v.included).toBeUndefined();
    expect(v.quality).toEqual({ asr: '0.0%', acd: '0:00', peakConcurrent: '0' });
  });
});
