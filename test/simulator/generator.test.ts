import { describe, expect, it } from 'vitest';
import { generateDomains } from '../../pipeline/simulator/domain-gen.ts';
import { entryJson, generateDomainDay, HOSTILE_CALLER_NAMES, updatedVersion, utcDayOf } from '../../pipeline/simulator/cdr-gen.ts';
import { formatApiDatetime, parseApiDatetime, rewriteBodyDatetimes } from '../../pipeline/simulator/datetime-format.ts';
import { zoneOffsetMinutes, zonedWallTimeToUtc } from '../../pipeline/util/zone-time.ts';
import { CDR_FIELD_NAMES } from '../../pipeline/simulator/cdr-fields.ts';

const DOC_TABLE_FIELDS = [
  'id',
  'domain',
  'reseller',
  'call-direction',
  'call-start-datetime',
  'call-answer-datetime',
  'call-disconnect-datetime',
  'call-ringing-datetime',
  'call-record-creation-datetime',
  'call-total-duration-seconds',
  'call-talking-duration-seconds',
  'call-on-hold-duration-seconds',
  'call-disconnect-reason-text',
  'call-orig-user',
  'call-orig-caller-id',
  'call-orig-from-name',
  'call-orig-from-user',
  'call-orig-to-user',
  'call-orig-request-user',
  'call-orig-domain',
  'call-orig-site',
  'call-orig-department',
  'call-orig-ip-address',
  'call-term-user',
  'call-term-caller-id',
  'call-term-to-uri',
  'call-term-domain',
  'call-term-site',
  'call-term-department',
  'call-orig-call-id',
  'call-term-call-id',
  'call-parent-call-id',
  'call-parent-cdr-id',
  'call-account-code',
  'call-routing-class',
  'call-tag',
  'call-leg-ordinal-index',
  'call-audio-codec',
  'hide-from-results',
];

const oct1 = utcDayOf(Date.UTC(2026, 9, 1));

function month(seed: number, count: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const p of generateDomains({ seed, count })) {
    for (let d = oct1; d < oct1 + 31; d++)
      for (const e of generateDomainDay(p, d, { seed })) out.push(JSON.parse(entryJson(e)) as Record<string, unknown>);
  }
  return out;
}

describe('domain generation', () => {
  it('gives hostname-like unique names, a time-zone mix, users and DIDs', () => {
    const ds = generateDomains({ seed: 7, count: 300 });
    expect(new Set(ds.map((d) => d.domain)).size).toBe(300);
    for (const d of ds) {
      expect(d.domain).toMatch(/^[a-z0-9.-]+\.pbx\.example$/);
      expect(d.users.length).toBeGreaterThanOrEqual(3);
      expect(d.dids.length).toBeGreaterThanOrEqual(1);
      expect(d.dids[0]).toMatch(/^1\d{10}$/);
    }
    const zones = new Set(ds.map((d) => d.timeZone));
    for (const z of ['US/Pacific', 'America/New_York', 'America/Chicago', 'UTC']) expect(zones).toContain(z);
    const volumes = ds.map((d) => d.callsPerBusinessDay).sort((a, b) => a - b);
    // Skewed: the busiest customers are many times the median one.
    expect(volumes[volumes.length - 1]! / volumes[150]!).toBeGreaterThan(5);
  });
  it('covers the key time zones even in a small run', () => {
    for (const seed of [1, 2, 3]) {
      const zones = new Set(generateDomains({ seed, count: 6 }).map((d) => d.timeZone));
      for (const z of ['US/Pacific', 'America/New_York', 'America/Chicago', 'UTC']) expect(zones).toContain(z);
    }
  });
  it('is deterministic for a seed', () => {
    expect(generateDomains({ seed: 9, count: 20 })).toEqual(generateDomains({ seed: 9, count: 20 }));
    expect(generateDomains({ seed: 9, count: 20 }).map((d) => d.domain)).not.toEqual(
      generateDomains({ seed: 10, count: 20 }).map((d) => d.domain),
    );
  });
});

describe('CDR generation', () => {
  const records = month(5, 60);

  it('is deterministic per (seed, domain, day) and ordered by start then id', () => {
    const [p] = generateDomains({ seed: 5, count: 1 });
    const a = generateDomainDay(p!, oct1 + 3, { seed: 5 });
    const b = generateDomainDay(p!, oct1 + 3, { seed: 5 });
    expect(b.map(entryJson)).toEqual(a.map(entryJson));
    expect(generateDomainDay(p!, oct1 + 3, { seed: 6 }).map(entryJson)).not.toEqual(a.map(entryJson));
    for (let i = 1; i < a.length; i++) {
      expect(a[i]!.startMs > a[i - 1]!.startMs || (a[i]!.startMs === a[i - 1]!.startMs && a[i]!.id > a[i - 1]!.id)).toBe(true);
    }
  });

  it('emits the documented kebab-case fields plus others the pipeline must keep', () => {
    const known = new Set<string>(CDR_FIELD_NAMES);
    for (const r of records.slice(0, 200)) {
      for (const f of DOC_TABLE_FIELDS) expect(r).toHaveProperty(f);
      for (const k of Object.keys(r)) expect(known.has(k), `field ${k} is a real CdrD field`).toBe(true);
    }
    expect(records[0]).toHaveProperty('call-batch-sequence-marker');
    expect(records[0]).toHaveProperty('is-trace-expected');
  });

  it('has ids unique per domain', () => {
    const seen = new Set(records.map((r) => `${String(r.domain)}/${String(r.id)}`));
    expect(seen.size).toBe(records.length);
  });

  it('mixes directions, destinations, legs, noise, numeric strings and hostile names', () => {
    const dirs = new Set(records.map((r) => r['call-direction']));
    expect([...dirs].sort()).toEqual([0, 1, 2, 3]);
    const dialled = records.filter((r) => r['call-direction'] === 0).map((r) => String(r['call-orig-to-user']));
    expect(dialled.some((d) => /^(\+?1)?8(00|88|77|66|55|44|33)/.test(d))).toBe(true);
    expect(dialled.some((d) => /^(011|\+)(44|52|91)/.test(d))).toBe(true);
    expect(dialled.some((d) => /^1?900/.test(d))).toBe(true);
    expect(dialled).toContain('911');
    expect(records.some((r) => r['call-parent-cdr-id'] !== '')).toBe(true);
    expect(records.some((r) => r['call-disconnect-reason-text'] === 'Term: Reg Expired')).toBe(true);
    expect(records.some((r) => typeof r['call-total-duration-seconds'] === 'string')).toBe(true);
    const names = new Set(records.map((r) => r['call-orig-from-name']));
    expect(HOSTILE_CALLER_NAMES.filter((n) => names.has(n)).length).toBeGreaterThanOrEqual(3);
    // Parent links point at a record of the same domain.
    const ids = new Set(records.map((r) => `${String(r.domain)}/${String(r.id)}`));
    for (const r of records.filter((x) => x['call-parent-cdr-id'] !== ''))
      expect(ids.has(`${String(r.domain)}/${String(r['call-parent-cdr-id'])}`)).toBe(true);
  });

  it("follows business hours and weekdays in the domain's own time zone", () => {
    const [p] = generateDomains({ seed: 5, count: 1 });
    const profile = { ...p!, timeZone: 'US/Pacific', callsPerBusinessDay: 400 };
    let business = 0;
    let night = 0;
    let weekday = 0;
    let weekend = 0;
    for (let d = oct1; d < oct1 + 28; d++) {
      for (const e of generateDomainDay(profile, d, { seed: 1 })) {
        const local = new Date(e.startMs + zoneOffsetMinutes('US/Pacific', e.startMs) * 60_000);
        const h = local.getUTCHours();
        if (h >= 9 && h < 17) business++;
        if (h < 6) night++;
        if (local.getUTCDay() === 0 || local.getUTCDay() === 6) weekend++;
        else weekday++;
      }
    }
    expect(business).toBeGreaterThan(10 * night);
    expect(weekday).toBeGreaterThan(5 * weekend);
  });

  it('makes a corrected version with longer durations, keeping value types', () => {
    const [p] = generateDomains({ seed: 5, count: 1 });
    const e = generateDomainDay({ ...p!, callsPerBusinessDay: 200 }, oct1 + 1, { seed: 1 }).find((x) => x.seconds > 0)!;
    const v2 = updatedVersion(e);
    const a = JSON.parse(entryJson(e)) as Record<string, unknown>;
    const b = JSON.parse(entryJson(v2)) as Record<string, unknown>;
    expect(v2.id).toBe(e.id);
    expect(v2.seconds).toBeGreaterThan(e.seconds);
    expect(Number(b['call-total-duration-seconds'])).toBe(v2.seconds);
    expect(typeof b['call-total-duration-seconds']).toBe(typeof a['call-total-duration-seconds']);
  });
});

describe('datetime forms', () => {
  it('parses the four accepted forms and writes each back', () => {
    const ms = Date.parse('2026-11-27T21:00:00Z');
    const bare = parseApiDatetime('2026-11-27 21:00:00')!;
    expect(bare.epochMs).toBe(ms);
    expect(formatApiDatetime(ms, bare.format)).toBe('2026-11-27 21:00:00');
    const z = parseApiDatetime('2026-11-27T21:00:00Z')!;
    expect(formatApiDatetime(ms, z.format)).toBe('2026-11-27T21:00:00Z');
    const off = parseApiDatetime('2026-11-27T13:00:00-08:00')!;
    expect(off.epochMs).toBe(ms);
    expect(formatApiDatetime(ms, off.format)).toBe('2026-11-27T13:00:00-08:00');
    const zone = parseApiDatetime('2026-11-27T13:00:00-08:00[US/Pacific]')!;
    expect(zone.epochMs).toBe(ms);
    // In summer the zone's own offset shows.
    expect(formatApiDatetime(Date.parse('2026-07-01T20:00:00Z'), zone.format)).toBe('2026-07-01T13:00:00-07:00[US/Pacific]');
    for (const bad of ['2026-13-01 00:00:00', 'yesterday', '2026-02-30T00:00:00Z', '']) expect(parseApiDatetime(bad)).toBeUndefined();
  });
  it('rewrites datetime values in a body but not look-alikes inside other strings', () => {
    const body = JSON.stringify([
      { 'call-start-datetime': '2026-11-27T21:00:00Z', 'call-orig-from-name': '"call-start-datetime":"2026-11-27T21:00:00Z"' },
    ]);
    const out = JSON.parse(rewriteBodyDatetimes(body, { kind: 'offset', offsetMinutes: 330 })) as Record<string, unknown>[];
    expect(out[0]!['call-start-datetime']).toBe('2026-11-28T02:30:00+05:30');
    expect(out[0]!['call-orig-from-name']).toBe('"call-start-datetime":"2026-11-27T21:00:00Z"');
  });
  it('finds local midnight across DST', () => {
    expect(new Date(zonedWallTimeToUtc('US/Pacific', 2026, 11, 1)).toISOString()).toBe('2026-11-01T07:00:00.000Z');
    expect(new Date(zonedWallTimeToUtc('US/Pacific', 2026, 11, 2)).toISOString()).toBe('2026-11-02T08:00:00.000Z');
    expect(new Date(zonedWallTimeToUtc('America/New_York', 2026, 3, 8, 3)).toISOString()).toBe('2026-03-08T07:00:00.000Z');
  });
});
