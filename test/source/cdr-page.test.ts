import { describe, expect, it } from 'vitest';
import { parseCdrPage } from '../../pipeline/source/cdr-page.ts';
import { BodyShapeError } from '../../pipeline/source/source-errors.ts';
import { sampleCdr } from './fixtures.ts';

const window = { start: new Date('2026-11-27T13:00:00Z'), end: new Date('2026-11-27T14:00:00Z') };
const ctx = { domain: 'acme.example.com', window, offset: 0, limit: 1000 };

describe('parseCdrPage', () => {
  it('sorts elements into in-window records, out-of-window records and rejects; keeps the body', () => {
    const elements = [
      sampleCdr({ id: 'a', 'call-start-datetime': '2026-11-27T13:00:00Z' }), // start: inside
      sampleCdr({ id: 'b', 'call-start-datetime': '2026-11-27T13:59:59.999Z' }), // inside
      sampleCdr({ id: 'c', 'call-start-datetime': '2026-11-27T14:00:00Z' }), // end: outside (half-open)
      sampleCdr({ id: 'd', 'call-start-datetime': '2026-11-27T12:59:59Z' }), // before
      sampleCdr({ id: 'e', 'call-start-datetime': '2026-11-27 13:30:00', custom: { nested: [1] } }),
      sampleCdr({ id: '', 'call-start-datetime': '2026-11-27T13:10:00Z' }), // reject
      42, // reject
    ];
    const body = JSON.stringify(elements);
    const page = parseCdrPage(body, ctx);
    expect(page.received).toBe(7);
    expect(page.records.map((r) => r.id)).toEqual(['a', 'b', 'e']);
    expect(page.cdrs.map((c) => c.id)).toEqual(['a', 'b', 'e']);
    expect(page.cdrs[2]!.raw).toBe(page.records[2]);
    expect(page.records[2]!.custom).toEqual({ nested: [1] });
    expect(page.outOfWindow).toBe(2);
    expect(page.rejects).toHaveLength(2);
    expect(page.rejects[0]).toMatchObject({ domain: 'acme.example.com', reason: expect.stringMatching(/^id: /) });
    expect(JSON.parse(page.rejects[0]!.rawText)).toEqual(elements[5]);
    expect(page.rejects[1]!.rawText).toBe('42');
    expect(page.body).toBe(body);
    expect(page).toMatchObject({ domain: 'acme.example.com', offset: 0, limit: 1000, window });
  });

  it('handles an empty page', () => {
    const page = parseCdrPage('[]', ctx);
    expect(page).toMatchObject({ received: 0, records: [], rejects: [], outOfWindow: 0 });
  });

  it.each([
    ['truncated', '[{"id":"a","call-start'],
    ['empty', ''],
    ['html', '<html>502 Bad Gateway</html>'],
    ['an object', '{"code":403,"message":"nope"}'],
    ['null', 'null'],
  ])('throws BodyShapeError for a %s body', (_label, body) => {
    expect(() => parseCdrPage(body, ctx)).toThrow(BodyShapeError);
  });
});
