import { describe, expect, it } from 'vitest';
import { planSharedDomain, sharedRange, sharedStart } from '../../pipeline/extract/reseller-plan.ts';
import { routePage, emptyRouted } from '../../pipeline/extract/reseller-route.ts';
import { parseCdrPage } from '../../pipeline/source/cdr-page.ts';

const NOW = new Date('2026-11-02T12:00:00Z');
const SETTINGS = { lookbackHours: 48, settleMinutes: 15, initialBackfillDays: 35, maxWindowDays: 31 };
const at = (iso: string) => new Date(iso);

describe('reseller-wide planning', () => {
  it('shares the start most domains have, the latest of equally common ones', () => {
    const a = at('2026-10-31T11:30:00Z');
    const b = at('2026-10-30T00:00:00Z');
    expect(sharedStart([a, b, a, undefined])).toEqual(a);
    expect(sharedStart([b, a])).toEqual(a);
    expect(sharedStart([undefined])).toBeUndefined();
    // Two domains at the usual watermark, one never ingested: the shared range starts at the usual one.
    const wm = at('2026-11-02T11:30:00Z');
    expect(sharedRange([wm, wm, undefined], NOW, SETTINGS)).toEqual({ start: at('2026-10-31T11:30:00Z'), end: at('2026-11-02T11:45:00Z') });
  });

  it('lets a domain read what lies before the shared range alone, and hands it the shared windows by month', () => {
    const shared = { start: at('2026-10-31T11:30:00Z'), end: at('2026-11-02T11:45:00Z') };
    const fresh = planSharedDomain('new.example', undefined, NOW, SETTINGS, shared);
    expect(fresh.ownPrefix).toBe(true);
    expect(fresh.dom.seed).toEqual(at('2026-09-28T12:00:00Z'));
    expect(fresh.tasks.map((t) => [t.window.start.toISOString(), t.window.end.toISOString()])).toEqual([
      ['2026-09-28T12:00:00.000Z', '2026-10-01T00:00:00.000Z'],
      ['2026-10-01T00:00:00.000Z', '2026-10-31T11:30:00.000Z'],
    ]);
    // October's partition ends where the shared range's October window ends; November's starts at the month.
    expect([...fresh.sharedParts.keys()]).toEqual(['2026-10', '2026-11']);
    expect(fresh.sharedParts.get('2026-10')!.end).toEqual(at('2026-11-01T00:00:00Z'));
    expect(fresh.sharedParts.get('2026-11')!.flushedTo).toEqual(at('2026-11-01T00:00:00Z'));
    const usual = planSharedDomain('old.example', at('2026-11-02T11:30:00Z'), NOW, SETTINGS, shared);
    expect(usual.ownPrefix).toBe(false);
    expect(usual.tasks).toEqual([]);
    expect(usual.partitions.map((p) => [p.month, p.flushedTo.toISOString()])).toEqual([
      ['2026-10', '2026-10-31T11:30:00.000Z'],
      ['2026-11', '2026-11-01T00:00:00.000Z'],
    ]);
  });

  it('routes records by domain, keeps the later copy of a repeated id, sets aside unlisted names and quarantines the rest', () => {
    const rec = (id: string, domain: unknown, extra = '') =>
      `{"id":"${id}",${domain === undefined ? '' : `"domain":${JSON.stringify(domain)},`}"call-start-datetime":"2026-11-01T10:00:00Z","call-direction":0,"call-total-duration-seconds":5${extra}}`;
    const window = { start: at('2026-11-01T00:00:00Z'), end: at('2026-11-02T00:00:00Z') };
    const page = (offset: number, body: string[]) => parseCdrPage(`[${body.join(',')}]`, { domain: '*', window, offset, limit: 1000 });
    const routed = emptyRouted();
    const domains = new Set(['a.example', 'b.example']);
    routePage(page(1000, [rec('1', 'a.example', ',"v":2'), rec('2', 'b.example')]), domains, routed);
    routePage(
      page(0, [rec('1', 'a.example', ',"v":1'), rec('3', '../x'), rec('4', undefined), rec('5', 7), rec('6', 'c.example')]),
      domains,
      routed,
    );
    expect(routed.shares.get('a.example')!.repeats).toBe(1);
    expect(routed.shares.get('a.example')!.records.get('1')!.bytes.toString()).toContain('"v":2');
    expect([...routed.shares.keys()].sort()).toEqual(['a.example', 'b.example']);
    // Text naming no domain of the run waits for the reader (it asks the domain list again) and never names a path here.
    expect([...routed.unlisted.keys()]).toEqual(['../x', 'c.example']);
    expect(routed.unlisted.get('c.example')!.records.get('6')!.bytes.toString()).toContain('"c.example"');
    expect(routed.quarantined.map((q) => q.reason)).toEqual([expect.stringContaining('no domain'), expect.stringContaining('a number')]);
    expect(routed.quarantined.every((q) => q.domain === '*')).toBe(true);
  });
});
