import { describe, expect, it } from 'vitest';
import { formatNsDatetime, parseNsDatetime } from '../../pipeline/source/ns-datetime.ts';

const iso = (text: string, bareZone?: string) => parseNsDatetime(text, bareZone ? { bareZone } : undefined)?.toISOString() ?? null;

describe('parseNsDatetime: every form the API writes', () => {
  it.each([
    // bare: UTC unless told otherwise
    ['2026-11-27 13:00:00', '2026-11-27T13:00:00.000Z'],
    ['2026-11-27T13:00:00', '2026-11-27T13:00:00.000Z'],
    ['2026-11-27 13:00', '2026-11-27T13:00:00.000Z'],
    // Z, upper and lower case
    ['2026-11-27T13:00:00Z', '2026-11-27T13:00:00.000Z'],
    ['2026-11-27t13:00:00z', '2026-11-27T13:00:00.000Z'],
    ['2026-11-27 13:00:00Z', '2026-11-27T13:00:00.000Z'],
    // offsets
    ['2026-11-27T13:00:00-08:00', '2026-11-27T21:00:00.000Z'],
    ['2026-11-27T13:00:00+05:30', '2026-11-27T07:30:00.000Z'],
    ['2026-11-27T13:00:00+00:00', '2026-11-27T13:00:00.000Z'],
    ['2026-11-27T13:00:00-0800', '2026-11-27T21:00:00.000Z'],
    ['2026-11-27T13:00:00-08', '2026-11-27T21:00:00.000Z'],
    ['2026-11-27 13:00:00 -08:00', '2026-11-27T21:00:00.000Z'],
    // offset across midnight and the year end
    ['2026-12-31T23:30:00-01:00', '2027-01-01T00:30:00.000Z'],
    ['2027-01-01T00:30:00+01:00', '2026-12-31T23:30:00.000Z'],
    // offset + zone suffix: the offset decides
    ['2026-11-27T13:00:00-08:00[US/Pacific]', '2026-11-27T21:00:00.000Z'],
    ['2026-07-01T13:00:00-07:00[America/Los_Angeles]', '2026-07-01T20:00:00.000Z'],
    ['2026-03-08T03:30:00-07:00[US/Pacific]', '2026-03-08T10:30:00.000Z'],
    // zone suffix without an offset: wall clock in that zone (DST aware)
    ['2026-11-27 13:00:00[US/Pacific]', '2026-11-27T21:00:00.000Z'],
    ['2026-07-01 13:00:00[US/Pacific]', '2026-07-01T20:00:00.000Z'],
    ['2026-11-27T13:00:00Z[UTC]', '2026-11-27T13:00:00.000Z'],
    // fractional seconds: truncated to milliseconds, comma accepted
    ['2026-11-27T13:00:00.5Z', '2026-11-27T13:00:00.500Z'],
    ['2026-11-27T13:00:00.123Z', '2026-11-27T13:00:00.123Z'],
    ['2026-11-27T13:00:00.123456789Z', '2026-11-27T13:00:00.123Z'],
    ['2026-11-27 13:00:00.999999', '2026-11-27T13:00:00.999Z'],
    ['2026-11-27T13:00:00,25-08:00', '2026-11-27T21:00:00.250Z'],
    // leap day
    ['2028-02-29 00:00:00', '2028-02-29T00:00:00.000Z'],
    ['2000-02-29T12:00:00Z', '2000-02-29T12:00:00.000Z'],
  ])('%s -> %s', (text, expected) => {
    expect(iso(text)).toBe(expected);
  });

  it('reads bare values in a configured zone, and never overrides an explicit offset or Z', () => {
    expect(iso('2026-11-27 13:00:00', 'America/New_York')).toBe('2026-11-27T18:00:00.000Z');
    expect(iso('2026-07-27 13:00:00', 'America/New_York')).toBe('2026-07-27T17:00:00.000Z');
    expect(iso('2026-11-27T13:00:00Z', 'America/New_York')).toBe('2026-11-27T13:00:00.000Z');
    expect(iso('2026-11-27T13:00:00+01:00', 'America/New_York')).toBe('2026-11-27T12:00:00.000Z');
    expect(iso('2026-11-27 13:00:00', 'UTC')).toBe('2026-11-27T13:00:00.000Z');
  });

  it.each([
    '',
    'now',
    '2026-11-27',
    '2026-11-27 13',
    '2026/11/27 13:00:00',
    '27-11-2026 13:00:00',
    '2026-11-27 13:00:00 PST',
    '2026-11-27T13:00:00+8:00',
    '0000-00-00 00:00:00',
    '2026-00-10 00:00:00',
    '2026-13-01 00:00:00',
    '2026-02-29 00:00:00',
    '1900-02-29 00:00:00',
    '2026-04-31 00:00:00',
    '2026-11-27 24:00:00',
    '2026-11-27 23:60:00',
    '2026-11-27 23:59:60',
    '2026-11-27T13:00:00+24:00',
    '2026-11-27T13:00:00+05:60',
    '2026-11-27T13:00:00.Z',
    '0099-01-01 00:00:00',
    ' 2026-11-27 13:00:00',
    '2026-11-27 13:00:00[Not/AZone]',
    '2026-11-27T13:00:00-08:00[Mars/Olympus]',
    '2026-11-27T13:00:00Z garbage',
    '2026-11-27T13:00:00ZZ',
    '１２３４-11-27 13:00:00',
  ])('refuses %j', (text) => {
    expect(parseNsDatetime(text)).toBeNull();
  });

  it('agrees with Date on thousands of instants 1970-2199 in the Z, offset and bare forms', () => {
    let seed = 42;
    const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const pad = (n: number) => String(n).padStart(2, '0');
    for (let i = 0; i < 3000; i++) {
      const t = Math.floor((rand() * Date.UTC(2200, 0, 1)) / 1000) * 1000;
      const iso = new Date(t).toISOString().slice(0, 19);
      expect(parseNsDatetime(iso + 'Z')?.getTime()).toBe(t);
      expect(parseNsDatetime(iso.replace('T', ' '))?.getTime()).toBe(t);
      const offMin = Math.floor(rand() * 28 - 14) * 60 + (rand() < 0.2 ? 30 : 0);
      const local = new Date(t + offMin * 60_000).toISOString().slice(0, 19);
      const sign = offMin < 0 ? '-' : '+';
      const text = `${local}${sign}${pad(Math.floor(Math.abs(offMin) / 60))}:${pad(Math.abs(offMin) % 60)}`;
      expect(parseNsDatetime(text)?.getTime()).toBe(t);
      expect(parseNsDatetime(text + '[Etc/UTC]')?.getTime()).toBe(t);
      // The regex path (lower-case z) gives the same answer as the position-based one.
      expect(parseNsDatetime(iso + 'z')?.getTime()).toBe(t);
    }
  });

  it('refuses non-strings without throwing', () => {
    expect(parseNsDatetime(undefined as unknown as string)).toBeNull();
    expect(parseNsDatetime(1764248400 as unknown as string)).toBeNull();
    expect(parseNsDatetime(null as unknown as string)).toBeNull();
  });

  it('refuses an unknown configured zone for bare values', () => {
    expect(parseNsDatetime('2026-11-27 13:00:00', { bareZone: 'Nowhere/Land' })).toBeNull();
  });
});

describe('formatNsDatetime', () => {
  it('writes RFC 3339 UTC with Z to the second', () => {
    expect(formatNsDatetime(new Date('2026-11-27T13:00:00.000Z'))).toBe('2026-11-27T13:00:00Z');
  });
  it('floors starts and ceils ends so the request covers the window', () => {
    const d = new Date('2026-11-27T13:00:00.400Z');
    expect(formatNsDatetime(d, 'floor')).toBe('2026-11-27T13:00:00Z');
    expect(formatNsDatetime(d, 'ceil')).toBe('2026-11-27T13:00:01Z');
    expect(formatNsDatetime(new Date('2026-11-27T13:00:00Z'), 'ceil')).toBe('2026-11-27T13:00:00Z');
  });
  it('round-trips through the parser', () => {
    const d = new Date('2031-01-31T23:59:59Z');
    expect(parseNsDatetime(formatNsDatetime(d))?.getTime()).toBe(d.getTime());
  });
  it('refuses an invalid Date', () => {
    expect(() => formatNsDatetime(new Date('x'))).toThrow(/invalid Date/);
  });
});
