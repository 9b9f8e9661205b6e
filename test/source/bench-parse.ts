/**
 * Page parsing + validation throughput on synthetic 1000-record pages.
 *   npx tsx test/source/bench-parse.ts
 * Pages: the simulator's own records (51 fields, ~1.7 KB each, as `/cdrs` serves them) and a
 * full 99-field CdrD record. Prints the best of 5 batches (the machine is shared), plus the
 * share that is JSON.parse itself and the validation cost per record.
 */
import { readFileSync } from 'node:fs';
import { generateDomainDay, type CdrEntry } from '../../pipeline/simulator/cdr-gen.ts';
import { renderEntries } from '../../pipeline/simulator/cdr-store.ts';
import { generateDomains } from '../../pipeline/simulator/domain-gen.ts';
import { parseCdrPage } from '../../pipeline/source/cdr-page.ts';
import { validateCdr } from '../../pipeline/source/cdr-record.ts';
import { sampleCdr } from './fixtures.ts';

const DAY_MS = 86_400_000;
const window = { start: new Date('2026-01-01T00:00:00Z'), end: new Date('2027-01-01T00:00:00Z') };

function simulatorPage(): string {
  const [profile] = generateDomains({ seed: 1, count: 1, medianCallsPerBusinessDay: 400 });
  const entries: CdrEntry[] = [];
  for (let day = Math.floor(Date.parse('2026-11-02T00:00:00Z') / DAY_MS); entries.length < 1000; day++) {
    entries.push(...generateDomainDay(profile!, day, { seed: 1, volume: 1 }));
  }
  // Exactly what `/cdrs` serves for a request written with `Z` datetimes.
  return renderEntries(entries.slice(0, 1000), { kind: 'utc-z' }).toString();
}

function fullRecordPage(): string {
  const path = new URL('../../../shared/netsapiens-v2-cdr-fields.json', import.meta.url);
  const fields = (JSON.parse(readFileSync(path, 'utf8')) as { fields: Record<string, unknown> }).fields;
  const records = Array.from({ length: 1000 }, (_, i) => {
    const r: Record<string, unknown> = {};
    for (const [k, t] of Object.entries(fields)) {
      const type = Array.isArray(t) ? t[0] : t;
      r[k] =
        type === 'integer'
          ? (i * 7) % 1000
          : type === 'null'
            ? null
            : k.endsWith('datetime')
              ? '2026-11-27T13:00:00Z'
              : `v${i}-${k.slice(5, 12)}`;
    }
    const start = new Date(Date.UTC(2026, 10, 27, 13, 0, i % 3600)).toISOString().replace('.000Z', 'Z');
    return Object.assign(r, sampleCdr({ id: `cdr-${i}`, 'call-start-datetime': start }));
  });
  return JSON.stringify(records);
}

function bestMs(rounds: number, fn: () => void): number {
  let best = Infinity;
  for (let batch = 0; batch < 5; batch++) {
    const t0 = performance.now();
    for (let i = 0; i < rounds; i++) fn();
    best = Math.min(best, (performance.now() - t0) / rounds);
  }
  return best;
}

function bench(label: string, body: string): void {
  const ctx = { domain: 'acme.example', window, offset: 0, limit: 1000 };
  const page = parseCdrPage(body, ctx);
  if (page.cdrs.length !== 1000)
    throw new Error(`${label}: expected 1000 valid records, got ${page.cdrs.length} (${page.rejects[0]?.reason})`);
  const parsed = JSON.parse(body) as unknown[];
  for (let i = 0; i < 20; i++) parseCdrPage(body, ctx); // warm-up
  const pageMs = bestMs(40, () => parseCdrPage(body, ctx));
  const jsonMs = bestMs(40, () => JSON.parse(body));
  const validateMs = bestMs(40, () => {
    for (const r of parsed) validateCdr(r);
  });
  const kb = Math.round(body.length / 1024);
  console.log(
    `${label}: ${kb} KB/page -> ${Math.round(1000 / pageMs).toLocaleString('en-US')}k records/s ` +
      `(${pageMs.toFixed(2)} ms/page, of which JSON.parse ${jsonMs.toFixed(2)} ms; validation ${((validateMs / 1000) * 1000).toFixed(2)} µs/record)`,
  );
}

bench('simulator records (51 fields)', simulatorPage());
bench('full CdrD records (99 fields)', fullRecordPage());
