import { describe, expect, it } from 'vitest';
import { cronError, nextTick, nextTicks, previousTick } from '../../pipeline/util/cron.ts';
import { missedTick } from '../../pipeline/schedule/catch-up.ts';

const NY = 'America/New_York';
const iso = (d: Date | undefined) => d?.toISOString();

describe('cron evaluation in a time zone', () => {
  it('finds the previous and next quarter hour', () => {
    const now = new Date('2026-06-10T10:07:30Z');
    expect(iso(previousTick('*/15 * * * *', NY, now))).toBe('2026-06-10T10:00:00.000Z');
    expect(iso(nextTick('*/15 * * * *', NY, now))).toBe('2026-06-10T10:15:00.000Z');
    // A tick exactly at now is "previous", never "next".
    expect(iso(previousTick('*/15 * * * *', NY, new Date('2026-06-10T10:15:00Z')))).toBe('2026-06-10T10:15:00.000Z');
    expect(iso(nextTick('*/15 * * * *', NY, new Date('2026-06-10T10:15:00Z')))).toBe('2026-06-10T10:30:00.000Z');
  });

  it('puts the monthly report at 06:00 local on the 1st, EST and EDT', () => {
    expect(iso(nextTick('0 6 1 * *', NY, new Date('2026-11-15T00:00:00Z')))).toBe('2026-12-01T11:00:00.000Z');
    expect(iso(nextTick('0 6 1 * *', NY, new Date('2026-05-15T00:00:00Z')))).toBe('2026-06-01T10:00:00.000Z');
    expect(iso(previousTick('0 6 1 * *', NY, new Date('2026-12-02T00:00:00Z')))).toBe('2026-12-01T11:00:00.000Z');
    expect(iso(previousTick('0 6 1 * *', NY, new Date('2026-12-01T10:59:59Z')))).toBe('2026-11-01T11:00:00.000Z');
  });

  it('runs a fixed wall time inside the spring-forward gap right after the gap (2026-03-08 America/New_York)', () => {
    // 02:30 does not exist that night: the daily job runs at 03:00 EDT rather than not at all.
    expect(iso(nextTick('30 2 * * *', NY, new Date('2026-03-07T12:00:00Z')))).toBe('2026-03-08T07:00:00.000Z');
    expect(iso(nextTick('30 2 * * *', NY, new Date('2026-03-08T07:00:00Z')))).toBe('2026-03-09T06:30:00.000Z');
    expect(iso(previousTick('30 2 * * *', NY, new Date('2026-03-09T00:00:00Z')))).toBe('2026-03-08T07:00:00.000Z');
    // Hourly ticks jump from 01:00 EST straight to 03:00 EDT: one real hour apart.
    expect(nextTicks('0 * * * *', NY, new Date('2026-03-08T05:30:00Z'), 3).map(iso)).toEqual([
      '2026-03-08T06:00:00.000Z',
      '2026-03-08T07:00:00.000Z',
      '2026-03-08T08:00:00.000Z',
    ]);
  });

  it('fires a repeated fixed wall time once, and a wildcard hour every real hour (2026-11-01 America/New_York)', () => {
    expect(iso(nextTick('30 1 * * *', NY, new Date('2026-10-31T12:00:00Z')))).toBe('2026-11-01T05:30:00.000Z');
    expect(iso(nextTick('30 1 * * *', NY, new Date('2026-11-01T05:30:00Z')))).toBe('2026-11-02T06:30:00.000Z');
    expect(iso(previousTick('30 1 * * *', NY, new Date('2026-11-01T06:45:00Z')))).toBe('2026-11-01T05:30:00.000Z');
    expect(nextTicks('0 * * * *', NY, new Date('2026-11-01T04:30:00Z'), 3).map(iso)).toEqual([
      '2026-11-01T05:00:00.000Z', // 01:00 EDT
      '2026-11-01T06:00:00.000Z', // 01:00 EST, the repeated hour: an hourly job still runs every hour
      '2026-11-01T07:00:00.000Z',
    ]);
  });

  it('fires on a day matching either day-of-month or day-of-week when both are restricted, as crontab(5)', () => {
    // 2026-11-06 is a Friday, the first after 2026-11-01; the 13th is a Friday too.
    expect(nextTicks('0 0 13 * FRI', 'UTC', new Date('2026-11-01T00:00:00Z'), 3).map(iso)).toEqual([
      '2026-11-06T00:00:00.000Z',
      '2026-11-13T00:00:00.000Z',
      '2026-11-20T00:00:00.000Z',
    ]);
    expect(nextTicks('0 0 1 * MON', 'UTC', new Date('2026-11-26T00:00:00Z'), 2).map(iso)).toEqual([
      '2026-11-30T00:00:00.000Z',
      '2026-12-01T00:00:00.000Z',
    ]);
  });

  it('handles 6-field expressions, names and the last day of the month', () => {
    expect(iso(nextTick('*/10 * * * * *', 'UTC', new Date('2026-01-01T00:00:05Z')))).toBe('2026-01-01T00:00:10.000Z');
    expect(iso(nextTick('0 9 * * MON', 'UTC', new Date('2026-11-27T00:00:00Z')))).toBe('2026-11-30T09:00:00.000Z');
    expect(iso(nextTick('0 0 L * *', 'UTC', new Date('2026-02-10T00:00:00Z')))).toBe('2026-02-28T00:00:00.000Z');
  });

  it('rejects a bad expression naming it', () => {
    expect(() => nextTick('61 * * * *', NY, new Date())).toThrow(/bad cron expression "61 \* \* \* \*"/);
    expect(cronError('61 * * * *')).toMatch(/minute/);
    expect(cronError('* * *')).toMatch(/5 fields/);
    expect(cronError('*/15 * * * *')).toBeUndefined();
  });
});

describe('catch-up of missed ticks', () => {
  const monthly = { cron: '0 6 1 * *', timeZone: NY };

  it('catches up exactly one missed monthly run (the one that should have gone out yesterday)', () => {
    const tick = missedTick({
      ...monthly,
      lastRunAt: new Date('2026-11-01T11:00:02Z'),
      knownSince: new Date('2026-01-01T00:00:00Z'),
      now: new Date('2026-12-02T09:00:00Z'),
    });
    expect(iso(tick)).toBe('2026-12-01T11:00:00.000Z');
  });

  it('collapses several missed ticks into the latest one', () => {
    const tick = missedTick({
      cron: '*/15 * * * *',
      timeZone: NY,
      lastRunAt: new Date('2026-12-01T00:00:00Z'),
      knownSince: undefined,
      now: new Date('2026-12-02T09:20:00Z'),
    });
    expect(iso(tick)).toBe('2026-12-02T09:15:00.000Z');
  });

  it('does nothing when the last run is after the latest tick, or on the very first start', () => {
    expect(
      missedTick({ ...monthly, lastRunAt: new Date('2026-12-01T11:00:01Z'), knownSince: undefined, now: new Date('2026-12-20T00:00:00Z') }),
    ).toBeUndefined();
    expect(missedTick({ ...monthly, lastRunAt: undefined, knownSince: undefined, now: new Date('2026-12-20T00:00:00Z') })).toBeUndefined();
  });

  it('uses when the job became known when it never ran', () => {
    const tick = missedTick({
      ...monthly,
      lastRunAt: undefined,
      knownSince: new Date('2026-11-20T00:00:00Z'),
      now: new Date('2026-12-03T00:00:00Z'),
    });
    expect(iso(tick)).toBe('2026-12-01T11:00:00.000Z');
  });
});
