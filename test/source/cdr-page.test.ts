import { describe, expect, it } from 'vitest';
import { parseCdrPage, parseCdrPageBytes } from '../../pipeline/source/cdr-page.ts';
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

describe('parseCdrPageBytes', () => {
  const inWindow = (id: unknown, extra: Record<string, unknown> = {}) =>
    sampleCdr({ id, 'call-start-datetime': '2026-11-27T13:30:00Z', ...extra });
  const verdicts = (p: ReturnType<typeof parseCdrPage>) => ({
    received: p.received,
    records: p.records,
    recordIndexes: p.recordIndexes,
    cdrs: p.cdrs,
    rejects: p.rejects,
    outOfWindow: p.outOfWindow,
    elementsAreObjects: p.elementsAreObjects,
  });

  it.each([
    [
      'plain records',
      JSON.stringify([inWindow('a'), inWindow('b'), sampleCdr({ id: 'c', 'call-start-datetime': '2026-11-27T15:00:00Z' })]),
    ],
    [
      'non-ASCII and escapes',
      JSON.stringify([inWindow('é', { 'call-orig-from-name': 'Zoë 😀 \u2028' }), inWindow('b', { note: 'a\\"b' })]),
    ],
    ['a },{ inside a string', JSON.stringify([inWindow('a', { note: '},{' }), inWindow('b', { note: '} , {' })])],
    ['a },{ inside a nested value', JSON.stringify([inWindow('a', { legs: [{ x: 1 }, { y: 2 }] }), inWindow('b')])],
    ['whitespace between elements', `[ ${JSON.stringify(inWindow('a'))} ,\n\t${JSON.stringify(inWindow('b'))} ]`],
    ['rejects', JSON.stringify([inWindow(''), inWindow('b'), inWindow('c', { 'call-direction': 9 })])],
    ['an element that is not an object', JSON.stringify([inWindow('a'), 42, null])],
    ['a lone surrogate escape', `[${JSON.stringify(inWindow('a')).slice(0, -1)},"x":"\\ud800"},${JSON.stringify(inWindow('b'))}]`],
    ['an empty page', '[]'],
  ])('gives the verdicts parseCdrPage gives: %s', (_label, body) => {
    const bytes = Buffer.from(body, 'utf8');
    const page = parseCdrPageBytes(Buffer.from(bytes), ctx);
    expect(verdicts(page)).toEqual(verdicts(parseCdrPage(body, ctx)));
    expect(page.body).toBe(body);
    // When kept, the spans are each element's bytes as sent.
    if (page.spans) {
      expect(page.bytes).toEqual(bytes);
      const texts = Array.from({ length: page.spans.length / 2 }, (_, i) =>
        bytes.toString('utf8', page.spans![2 * i], page.spans![2 * i + 1]),
      );
      expect(texts.map((t) => JSON.parse(t) as unknown)).toEqual(JSON.parse(body));
    }
  });

  it.each([
    ['truncated', '[{"id":"a","call-start'],
    ['html', '<html>502 Bad Gateway</html>'],
    ['an object', '{"code":403,"message":"nope"}'],
    ['a trailing comma', `[${JSON.stringify(inWindow('a'))},]`],
  ])('throws BodyShapeError for a %s body', (_label, body) => {
    expect(() => parseCdrPageBytes(Buffer.from(body, 'utf8'), ctx)).toThrow(BodyShapeError);
  });
});
