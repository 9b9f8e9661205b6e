import { afterAll, describe, expect, it, vi } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { main } from '../../pipeline/cli/main.ts';
import { buildCallsCsv } from '../../pipeline/report/calls-csv.ts';
import type { BilledCallRow } from '../../pipeline/report/warehouse-queries.ts';
import { writeReconcileCsv, type ReconcileRow } from '../../pipeline/transform/reconcile.ts';
import { formatCsv } from '../../pipeline/transform/sql-output.ts';
import { runQuery } from '../../pipeline/transform/sql-query.ts';
import { parseCsv } from '../support/parse-csv.ts';
import { tempDir } from '../support/temp-dir.ts';

/** Cells a spreadsheet would run, or split into a new cell in a ';' locale. */
const HOSTILE = [
  `=cmd|' /C calc'!A0`,
  '@SUM(1)',
  '=HYPERLINK("http://evil.example","click")',
  '+1+2',
  '-1+2',
  '\t=1+2',
  '\r=1+2',
  ' =1+2',
  '\uFF1D1+2',
];
const SEMICOLON = 'x;=1+2';
const sqlText = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** What a spreadsheet must be shown: no cell that starts like a formula. */
function expectSpreadsheetSafe(csv: string): string[][] {
  const rows = parseCsv(csv);
  for (const row of rows) for (const cell of row) expect(cell).not.toMatch(/^(?:[\t\r]|\s*[=+\-@\uFF1D])(?!\d+(\.\d+)?([eE][+-]?\d+)?$)/);
  expect(csv).not.toMatch(/(^|,)x;/m); // a ';' is always inside quotes
  return rows;
}

describe('one formula-safe CSV writer', () => {
  const saved = { ...process.env };
  afterAll(() => {
    process.env = saved;
  });

  it('cdrpipe sql --format csv neutralises text, keeps numeric columns as numbers, and --raw writes text as stored', async () => {
    const dataDir = await tempDir('cdrpipe-csv-');
    const sql = `SELECT txt, -5 AS i, -1.5::DECIMAL(18,6) AS d, -7::BIGINT AS b, '-inf'::DOUBLE AS inf, -1e-7::DOUBLE AS e, '-5' AS s
      FROM (VALUES ${[...HOSTILE, SEMICOLON].map((h, k) => `(${k}, ${sqlText(h)})`).join(', ')}) t(k, txt) ORDER BY k`;
    const result = await runQuery({ dataDir, sql });
    const csv = formatCsv(result);
    const rows = expectSpreadsheetSafe(csv);
    expect(rows[0]).toEqual(['txt', 'i', 'd', 'b', 'inf', 'e', 's']);
    expect(rows.slice(1).map((r) => r[0])).toEqual([...HOSTILE.map((h) => `'${h}`), SEMICOLON]);
    expect(rows[1]!.slice(1)).toEqual(['-5', '-1.500000', '-7', "'-Infinity", '-1e-7', "'-5"]);
    expect(csv.endsWith('\r\n')).toBe(true);

    const raw = parseCsv(formatCsv(result, { raw: true }));
    expect(raw.slice(1).map((r) => r[0])).toEqual([...HOSTILE, SEMICOLON]);
    expect(raw[1]!.slice(1)).toEqual(['-5', '-1.500000', '-7', '-Infinity', '-1e-7', '-5']);

    process.env.CDRPIPE_DATA_DIR = dataDir;
    const outDir = await tempDir('cdrpipe-csv-out-');
    const errs: string[] = [];
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => (errs.push(String(c)), true));
    try {
      expect(await main(['node', 'cdrpipe', 'sql', sql, '--format', 'csv', '--out', join(outDir, 'safe.csv')])).toBe(0);
      expect(await main(['node', 'cdrpipe', 'sql', sql, '--format', 'csv', '--raw', '--out', join(outDir, 'raw.csv')])).toBe(0);
      expect(await main(['node', 'cdrpipe', 'sql', sql, '--raw'])).toBe(2);
      expect(errs.join('')).toMatch(/--raw: applies to --format csv only/);
    } finally {
      out.mockRestore();
      err.mockRestore();
      process.exitCode = undefined;
    }
    expect(await readFile(join(outDir, 'safe.csv'), 'utf8')).toBe(csv);
    expect(parseCsv(await readFile(join(outDir, 'raw.csv'), 'utf8'))).toEqual(raw);
  });

  it('reconciliation.csv neutralises what the PBX sends (domain names, details) and keeps counts and money numeric', async () => {
    const dir = await tempDir('cdrpipe-csv-rec-');
    const row = (domain: string): ReconcileRow => ({
      month: '2026-10',
      domain,
      timeZone: 'UTC',
      windowStart: '2026-10-01T00:00:00.000Z',
      windowEnd: '2026-11-01T00:00:00.000Z',
      monthToDate: false,
      apiTotal: 3,
      apiSeconds: 90,
      lakeTotal: 2,
      lakeSeconds: 60,
      lakeRows: 2,
      duplicateIds: 0,
      rejects: 0,
      openAnomalies: 0,
      billedCharge: '-1.250000',
      billedS: 60,
      currency: 'USD',
      byClass: [{ call_class: 'domestic', calls: 2, billable_s: 60, charge: '-1.250000' }],
      status: 'off',
      detail: domain,
    });
    const path = join(dir, 'reconciliation.csv');
    await writeReconcileCsv(path, [...HOSTILE, SEMICOLON].map(row));
    const rows = expectSpreadsheetSafe(await readFile(path, 'utf8'));
    const header = rows[0]!;
    const at = (name: string) => header.indexOf(name);
    expect(rows.slice(1).map((r) => r[at('domain')])).toEqual([...HOSTILE.map((h) => `'${h}`), SEMICOLON]);
    expect(rows.slice(1).map((r) => r[at('detail')])).toEqual([...HOSTILE.map((h) => `'${h}`), SEMICOLON]);
    expect(rows[1]![at('billed_charge')]).toBe('-1.250000');
    expect(rows[1]![at('api_total')]).toBe('3');
    expect(rows[1]![at('month_to_date')]).toBe('false');
  });

  it('calls.csv quotes a ; and neutralises formulas hidden behind white space', () => {
    const call = (name: string): BilledCallRow => ({
      start_local: '2026-10-01 10:00:00',
      id: 'c1',
      direction: 'outbound',
      caller_name: name,
      caller_number: '2125550100',
      dialed_number: '+442071234567',
      did: null,
      remote_number: null,
      user_id: '101',
      call_class: 'international',
      rate_description: name,
      talk_s: '61',
      billable_s: '66',
      charge: '-0.020000',
      currency: 'USD',
    });
    const csv = buildCallsCsv([...HOSTILE, SEMICOLON].map(call), { currency: 'USD', decimals: 2 });
    const rows = expectSpreadsheetSafe(csv);
    expect(rows.slice(1).map((r) => r[3])).toEqual([...HOSTILE.map((h) => `'${h}`), SEMICOLON]);
    expect(rows[1]![10]).toBe('-0.02');
    expect(rows[1]![5]).toBe("'+442071234567");
  });
});
