import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportCarrierFile, toE164, type CarrierTruth } from '../../pipeline/carrier/index.ts';
import { resolveProjectPath } from '../../pipeline/config/index.ts';
import { Db } from '../../pipeline/db/duckdb.ts';
import { parseRateDeck } from '../../pipeline/transform/index.ts';
import { runCli } from '../support/cli.ts';
import { importHarness } from './import-harness.ts';

const readTruth = async (file: string) => JSON.parse(await readFile(`${file}.truth.json`, 'utf8')) as CarrierTruth;

describe('carrier presets on files shaped like the carriers’ own exports', () => {
  it('didww (comma CSV, gzip, UTC without offset, unanswered attempts) and sinch (semicolons) import completely', async () => {
    const h = await importHarness();
    for (const carrier of ['didww', 'sinch'] as const) {
      const out = join(h.dir, carrier === 'didww' ? 'didww-cdr_out.csv.gz' : 'sinch-cdrs.csv');
      await exportCarrierFile({ month: '2026-10', seed: 5, domains: 2, carrier, out, mixedFormats: true, skewS: 2 });
      const truth = await readTruth(out);
      const r = await h.run(out, carrier);
      expect(r).toMatchObject({ carrier, months: ['2026-10'], loaded: truth.records.length, rejected: 0, skipped: truth.attempts.length });
      expect(truth.attempts.length).toBeGreaterThan(0);
      const rows = await h.rows('carrier_cdrs', `carrier = '${carrier}'`);
      // Every record's line and destination are what the file says, whatever form the number took.
      const byLine = new Map(truth.records.map((t) => [t.line, t.callId]));
      expect(rows.every((x) => byLine.get(Number(x.line_number)) === x.call_id)).toBe(true);
      expect(rows.every((x) => typeof x.to_e164 === 'string' && x.to_e164 === toE164(String(x.to_number)))).toBe(true);
    }
  });

  it('the generic export plants exactly the discrepancies asked for, with a price list in the deck format', async () => {
    const h = await importHarness();
    const out = join(h.dir, 'generic.csv');
    const priceList = join(h.dir, 'buy.csv');
    const args = [
      '--month',
      '2026-10',
      '--seed',
      '9',
      '--domains',
      '3',
      '--phantoms',
      '3',
      '--inflated',
      '4',
      '--missing',
      '5',
      '--off-deck',
      '2',
    ];
    const cli = await runCli(['simulate', 'carrier-file', ...args, '--mixed-formats', '--out', out, '--price-list', priceList]);
    expect(cli.code).toBe(0);
    const truth = await readTruth(out);
    expect(truth).toMatchObject({ seed: 9, domains: 3, attempts: [] });
    expect(truth.counts).toMatchObject({ duration_dispute: 4, cost_dispute: 2, carrier_only: 3, pbx_only: 5 });
    expect(truth.countsWithoutBuyDeck).toMatchObject({ cost_dispute: 0, matched: truth.counts.matched + 2 });
    expect(truth.pbxOnly).toHaveLength(5);
    expect(parseRateDeck(await readFile(priceList, 'utf8')).length).toBeGreaterThan(5);
    const r = await h.run(out, 'generic');
    expect(r).toMatchObject({ loaded: truth.records.length, rejected: 0, skipped: 0 });
  });

  it('the simulator truth normalises numbers exactly as the SQL macro does', async () => {
    const samples = [
      '+14155550100',
      '14155550100',
      '4155550100',
      '(415) 555-0100',
      '011 44 20 7946 0000',
      'sip:+442079460000@x',
      '911',
      '0123',
      '',
      '+1 415 555 0100',
      '1-800-555-0100',
    ];
    const db = await Db.open(':memory:');
    try {
      await db.exec(await readFile(resolveProjectPath('reports/macros/numbers.sql'), 'utf8'));
      for (const s of samples) expect([s, toE164(s)]).toEqual([s, (await db.one<{ e: string | null }>('SELECT to_e164($1) AS e', [s]))!.e]);
    } finally {
      db.close();
    }
  });
});
