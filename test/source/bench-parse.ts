/**
 * Page parsing + validation throughput on a synthetic 1000-record page.
 *   npx tsx test/source/bench-parse.ts
 * Two record shapes: the simulator's (51 fields, ~1.7 KB) and a full 99-field CdrD record.
 */
import { readFileSync } from 'node:fs';
import { parseCdrPage } from '../../pipeline/source/cdr-page.ts';
import { sampleCdr } from './fixtures.ts';

const fields = (JSON.parse(readFileSync(new URL('../../../shared/netsapiens-v2-cdr-fields.json', import.meta.url), 'utf8')) as { fields: Record<string, unknown> }).fields;

function fullRecord(i: number): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  for (const [k, t] of Object.entries(fields)) {
    const type = Array.isArray(t) ? t[0] : t;
    r[k] = type === 'integer' ? (i * 7) % 1000 : type === 'null' ? null : k.endsWith('datetime') ? '2026-11-27T13:00:00Z' : `v${i}-${k.slice(5, 15)}`;
  }
  return Object.assign(r, sampleCdr({ id: `cdr-${i}`, 'call-start-datetime': new Date(Date.UTC(2026, 10, 27, 13, 0, i % 3600)).toISOString().replace('.000Z', 'Z') }));
}

function simLikeRecord(i: number): Record<string, unknown> {
  return sampleCdr({
    id: `2026112700${String(i).padStart(4, '0')}`,
    'call-start-datetime': new Date(Date.UTC(2026, 10, 27, 13, 0, i % 3600)).toISOString().replace('.000Z', 'Z'),
    'call-total-duration-seconds': String(i % 600),
    'call-orig-call-id': `ad50bdff5216aa0f${i}@core1-chi.pbx.example`,
    'call-disconnect-reason-text': 'Orig: Bye',
    'call-audio-codec': 'G729',
    'call-orig-from-name': 'SMITH JOHN',
    'call-term-to-uri': 'sip:108@acme.pbx.example',
    'core-server': 'core1-chi.pbx.example',
  });
}

const window = { start: new Date('2026-11-27T00:00:00Z'), end: new Date('2026-11-28T00:00:00Z') };

function bench(label: string, make: (i: number) => Record<string, unknown>): void {
  const body = JSON.stringify(Array.from({ length: 1000 }, (_, i) => make(i)));
  const run = () => parseCdrPage(body, { domain: 'acme.example', window, offset: 0, limit: 1000 });
  for (let i = 0; i < 30; i++) run(); // warm-up
  const rounds = 200;
  const t0 = process.hrtime.bigint();
  let n = 0;
  for (let i = 0; i < rounds; i++) n += run().cdrs.length;
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const t1 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) JSON.parse(body);
  const parseOnlyMs = Number(process.hrtime.bigint() - t1) / 1e6;
  console.log(
    `${label}: ${Math.round(body.length / 1000)} KB/page, ${Math.round((n / ms) * 1000).toLocaleString('en-US')} records/s ` +
      `(${(ms / rounds).toFixed(2)} ms/page; JSON.parse alone ${(parseOnlyMs / rounds).toFixed(2)} ms/page)`,
  );
}

bench('simulator-like record (25 fields)', simLikeRecord);
bench('full CdrD record (99 fields)', fullRecord);
