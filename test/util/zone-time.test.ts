import { describe, expect, it } from 'vitest';
import { Db } from '../../pipeline/db/duckdb.ts';
import { timeZoneSchema } from '../../pipeline/config/config-schema.ts';
import { parseNsDatetime } from '../../pipeline/source/ns-datetime.ts';
import { isKnownZone, zonedWallTimeToUtc, zoneOffsetMinutes } from '../../pipeline/util/zone-time.ts';

const iso = (ms: number) => new Date(ms).toISOString();

describe('one wall-clock -> instant rule', () => {
  it('a wall time in the spring-forward gap moves forward by the gap, everywhere, as DuckDB reads it', async () => {
    // New York skips 02:00-03:00 on 8 March 2026: 02:30 is read as 03:30 EDT.
    expect(iso(zonedWallTimeToUtc('America/New_York', 2026, 3, 8, 2, 30))).toBe('2026-03-08T07:30:00.000Z');
    expect(parseNsDatetime('2026-03-08 02:30:00[America/New_York]')?.toISOString()).toBe('2026-03-08T07:30:00.000Z');
    expect(parseNsDatetime('2026-03-08 02:30:00', { bareZone: 'America/New_York' })?.toISOString()).toBe('2026-03-08T07:30:00.000Z');
    const db = await Db.open(':memory:');
    try {
      const row = await db.one<{ t: string }>(
        `SELECT strftime(('2026-03-08 02:30:00'::TIMESTAMP AT TIME ZONE 'America/New_York') AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.000Z') AS t`,
      );
      expect(row?.t).toBe('2026-03-08T07:30:00.000Z');
    } finally {
      db.close();
    }
  });

  it('a wall time that happens twice (fall back) is the first of the two', () => {
    expect(iso(zonedWallTimeToUtc('America/New_York', 2026, 11, 1, 1, 30))).toBe('2026-11-01T05:30:00.000Z');
    expect(parseNsDatetime('2026-11-01 01:30:00[America/New_York]')?.toISOString()).toBe('2026-11-01T05:30:00.000Z');
  });

  it('half-hour zones and milliseconds', () => {
    expect(iso(zonedWallTimeToUtc('Australia/Lord_Howe', 2026, 10, 4, 2, 15))).toBe('2026-10-03T15:45:00.000Z');
    expect(iso(zonedWallTimeToUtc('Asia/Kolkata', 2026, 1, 1, 0, 0, 0, 250))).toBe('2025-12-31T18:30:00.250Z');
    expect(zoneOffsetMinutes('Asia/Kolkata', Date.UTC(2026, 0, 1))).toBe(330);
  });
});

describe('one zone validator', () => {
  it('config, the API parser and the conversion agree on which names are zones', () => {
    for (const zone of ['US/Pacific', 'America/New_York', 'UTC', 'Etc/GMT+5']) {
      expect(isKnownZone(zone)).toBe(true);
      expect(timeZoneSchema.safeParse(zone).success).toBe(true);
    }
    for (const zone of ['Mars/Olympus_Mons', 'America/Nowhere', '']) {
      expect(isKnownZone(zone)).toBe(false);
      expect(timeZoneSchema.safeParse(zone).success).toBe(false);
      expect(Number.isNaN(zonedWallTimeToUtc(zone, 2026, 1, 1))).toBe(true);
    }
    expect(parseNsDatetime('2026-11-27 13:00:00[Mars/Olympus_Mons]')).toBeNull();
    expect(timeZoneSchema.safeParse('Mars/Olympus_Mons').error?.issues[0]?.message).toMatch(/unknown time zone "Mars\/Olympus_Mons"/);
  });
});
