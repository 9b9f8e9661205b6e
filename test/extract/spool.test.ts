import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dir.ts';
import { PageSpool, encodePage } from '../../pipeline/extract/spool.ts';
import { RECORD_SEPARATOR, byteSpansByParsing, encodeRecords, recordBoundaries } from '../../pipeline/lake/spool-format.ts';
import { parseCdrPage, parseCdrPageBytes } from '../../pipeline/source/cdr-page.ts';

let dir: string;
beforeEach(async () => {
  dir = await tempDir('cdrpipe-spool-');
});

const ctx = {
  domain: 'acme.example',
  window: { start: new Date('2026-10-01T00:00:00Z'), end: new Date('2026-10-02T00:00:00Z') },
  offset: 0,
  limit: 1000,
};
const rec = (id: string, start: string, extra = '') =>
  `{"id": "${id}", "call-start-datetime": "${start}", "call-total-duration-seconds": 60, "call-direction": 1${extra}}`;

describe('PageSpool.writePage', () => {
  it('keeps every record byte for byte, also on a page with rejects and records of another window', async () => {
    const a = rec('a', '2026-10-01T01:00:00Z', ', "x": 1.50, "name": "Zo\\u00eb \\/ Jos\u00e9 😀"');
    const bad = '{"id": "", "call-start-datetime": "nope"}';
    const other = rec('o', '2026-10-05T01:00:00Z');
    const b = rec('b', '2026-10-01T02:00:00Z', ', "n": 1e3');
    const page = parseCdrPage(`[ ${a},\n ${bad} , ${other},${b} ]`, ctx);
    expect(page.rejects.map((r) => r.rawText)).toEqual([bad]);
    expect(page.outOfWindow).toBe(1);
    const spool = await PageSpool.create(dir);
    const file = await spool.writePage(page);
    expect(await readFile(file!, 'utf8')).toBe([a, b].join(RECORD_SEPARATOR));
  });

  it('writes the same file from a page parsed from its bytes', async () => {
    const a = rec('a', '2026-10-01T01:00:00Z', ', "name": "Zo\\u00eb Jos\u00e9 😀"');
    const body = `[ ${a},\n {"id": ""} , ${rec('o', '2026-10-05T01:00:00Z')},${rec('b', '2026-10-01T02:00:00Z')} ]`;
    const fromBytes = parseCdrPageBytes(Buffer.from(body, 'utf8'), ctx);
    expect(fromBytes.spans).toBeDefined();
    const spool = await PageSpool.create(dir);
    const [one, two] = [await spool.writePage(parseCdrPage(body, ctx)), await spool.writePage(fromBytes)];
    expect(await readFile(two!, 'utf8')).toBe(await readFile(one!, 'utf8'));
    expect(fromBytes.body).toBe(body);
  });

  it('names a file plain only when every record in it is plain', async () => {
    const spool = await PageSpool.create(dir);
    const plain = await spool.writePage(parseCdrPage(`[${rec('a', '2026-10-01T01:00:00Z')}]`, ctx));
    const padded = await spool.writePage(parseCdrPage(`[${rec('a', '2026-10-01T01:00:00Z')},${rec(' b ', '2026-10-01T01:00:00Z')}]`, ctx));
    const zoned = await spool.writePage(parseCdrPage(`[${rec('c', '2026-10-01T01:00:00-07:00[America/Los_Angeles]')}]`, ctx));
    expect([plain, padded, zoned].map((f) => basename(f!))).toEqual(['1.plain.jsonrs', '2.jsonrs', '3.jsonrs']);
  });

  it('writes no file for a page with nothing to load', async () => {
    const spool = await PageSpool.create(dir);
    expect(await spool.writePage(parseCdrPage('[]', ctx))).toBeUndefined();
  });
});

describe('spool encoding', () => {
  const elements = (bytes: Buffer, spans: number[] | undefined) =>
    spans && spans.flatMap((_, i) => (i % 2 ? [] : [bytes.subarray(spans[i], spans[i + 1]).toString('utf8')]));

  it.each([
    ['[]', []],
    ['[{"a":1}]', ['{"a":1}']],
    ['[{"a":"é"},{"b":"😀"},{"c":"ü"}]', ['{"a":"é"}', '{"b":"😀"}', '{"c":"ü"}']],
    [' [ {"a":1} ,\n {"b":{"c":{}}} ] ', ['{"a":1}', '{"b":{"c":{}}}']],
  ])('finds the elements of %j without parsing', (body, expected) => {
    const bytes = Buffer.from(body);
    expect(elements(bytes, recordBoundaries(bytes, expected.length))).toEqual(expected);
  });

  it('gives up when a string holds what looks like a boundary, and parsing finds the elements instead', () => {
    const body = '[{"a":"},{"},{"b":"é"}]';
    const bytes = Buffer.from(body);
    expect(recordBoundaries(bytes, 2)).toBeUndefined();
    expect(elements(bytes, byteSpansByParsing(body))).toEqual(['{"a":"},{"}', '{"b":"é"}']);
  });

  it('writes minified pages in place, and copies kept elements otherwise, always byte for byte', () => {
    const body = '[{"a":"é"},{"b":1.50},{"c":"ü"}]';
    const all = Buffer.from(body);
    const spans = recordBoundaries(all, 3)!;
    expect(encodeRecords(all, spans, [0, 1, 2]).toString('utf8')).toBe(['{"a":"é"}', '{"b":1.50}', '{"c":"ü"}'].join(RECORD_SEPARATOR));
    const some = Buffer.from(body);
    expect(encodeRecords(some, spans, [0, 2]).toString('utf8')).toBe(['{"a":"é"}', '{"c":"ü"}'].join(RECORD_SEPARATOR));
    const spaced = ' [ {"a":"é"} , {"b":1.50} ] ';
    const b2 = Buffer.from(spaced);
    expect(encodeRecords(b2, recordBoundaries(b2, 2)!, [0, 1]).toString('utf8')).toBe(['{"a":"é"}', '{"b":1.50}'].join(RECORD_SEPARATOR));
  });

  it('re-serialises only a body with an element that is not an object', async () => {
    const page = parseCdrPage(`[${rec('a', '2026-10-01T01:00:00Z', ', "x": 1.50')}, 7]`, ctx);
    expect(page.elementsAreObjects).toBe(false);
    expect(page.rejects.map((r) => r.rawText)).toEqual(['7']);
    expect(encodePage(page).toString('utf8')).toBe(JSON.stringify(page.records[0]));
  });
});

describe('records DuckDB cannot store', () => {
  it('turns a record with half a surrogate pair into a reject, and keeps its neighbours and proper pairs', () => {
    const lone = rec('l', '2026-10-01T01:00:00Z', ', "name": "x\\ud800y"');
    const loneLow = rec('m', '2026-10-01T01:00:00Z', ', "tags": ["\\uDC00"]');
    const pair = rec('p', '2026-10-01T01:00:00Z', ', "name": "\\ud83d\\ude00"');
    const page = parseCdrPage(`[${lone},${loneLow},${pair}]`, ctx);
    expect(page.cdrs.map((c) => c.id)).toEqual(['p']);
    expect(page.rejects.map((r) => [r.rawText, r.reason.includes('surrogate')])).toEqual([
      [lone, true],
      [loneLow, true],
    ]);
  });
});
