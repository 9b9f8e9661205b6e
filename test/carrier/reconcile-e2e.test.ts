/**
 * The cost side end to end on the simulator: its calls ingested into the lake, a carrier file
 * exported from the same calls with planted discrepancies and ground truth, imported, reconciled,
 * and the billing report's cost section. Exact status counts and per-line statuses against the truth.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../support/temp-dir.ts';
import { testConfig } from '../support/test-config.ts';
import { runCli } from '../support/cli.ts';
import { parseCsv } from '../support/parse-csv.ts';
import { ingestFromSimulator } from '../support/simulator-lake.ts';
import { resolveProjectPath } from '../../pipeline/config/load-config.ts';
import type { CdrpipeConfig } from '../../pipeline/config/config-schema.ts';
import { withDb } from '../../pipeline/db/duckdb.ts';
import { warehousePath } from '../../pipeline/lake/layout.ts';
import {
  exportCarrierFile,
  importCarrierFile,
  runCarrierInbox,
  runCarrierReconcile,
  type CarrierTruth,
} from '../../pipeline/carrier/index.ts';
import { runReports } from '../../pipeline/report/run-reports.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';

const clock = new FixedClock(new Date('2026-11-05T12:00:00Z'));
const SEED = 5;
const DOMAINS = 2;

describe('carrier reconcile on the simulator, against its ground truth', () => {
  let dataDir: string;
  let truth: CarrierTruth;
  let config: CdrpipeConfig;
  let file: string;

  beforeAll(async () => {
    dataDir = await tempDir('cdrpipe-carrier-e2e-');
    file = join(dataDir, 'generic-2026-10.csv');
    const priceList = join(dataDir, 'price-list.csv');
    config = testConfig({
      plans: {
        standard: {
          version: '2026-01',
          rateDeck: resolveProjectPath('reports/rates/standard.csv'),
          inbound: { perMinute: '0.0090' },
          tollFreeInbound: { perMinute: '0.0250' },
          includedMinutes: 0,
        },
      },
      carriers: { generic: { buyDeck: priceList } },
      jobs: {},
    });
    await ingestFromSimulator({
      dataDir,
      config,
      clock,
      simulator: { seed: SEED, domains: DOMAINS, dataFrom: new Date('2026-09-28T00:00:00Z'), dataTo: new Date('2026-11-02T00:00:00Z') },
      from: new Date('2026-09-30T00:00:00Z'),
      to: new Date('2026-11-02T00:00:00Z'),
    });
    await exportCarrierFile({
      month: '2026-10',
      seed: SEED,
      domains: DOMAINS,
      carrier: 'generic',
      out: file,
      priceList,
      phantoms: 3,
      inflated: 4,
      missing: 5,
      offDeck: 3,
      skewS: 4,
      mixedFormats: true,
    });
    truth = JSON.parse(await readFile(`${file}.truth.json`, 'utf8')) as CarrierTruth;
    await importCarrierFile({ dataDir, config, clock, logger: silentLogger(), file, carrier: 'generic' });
  }, 180_000);

  it('finds exactly the planted discrepancies, line by line, with the buy deck', async () => {
    const result = await runCarrierReconcile({ dataDir, config, clock, logger: silentLogger(), month: '2026-10' });
    expect(truth.counts).toMatchObject({ duration_dispute: 4, cost_dispute: 3, carrier_only: 3, pbx_only: 5 });
    const line = result.lines.find((l) => l.carrier === 'generic')!;
    expect({
      matched: line.matched,
      duration_dispute: line.duration_dispute,
      cost_dispute: line.cost_dispute,
      carrier_only: line.carrier_only,
      pbx_only: line.pbx_only,
    }).toEqual(truth.counts);
    expect(line.records).toBe(truth.records.length);
    expect(result.ok).toBe(false);
    const rows = await withDb(
      warehousePath(dataDir),
      (db) =>
        db.all<{ line_number: string | null; status: string; domain: string | null; pbx_id: string | null }>(
          `SELECT CAST(line_number AS VARCHAR) AS line_number, status, domain, pbx_id FROM carrier_matches WHERE carrier = 'generic' AND month = '2026-10'`,
        ),
      { readOnly: true },
    );
    const got = rows
      .filter((r) => r.line_number !== null)
      .map((r) => ({ line: Number(r.line_number), status: r.status, pbxId: r.pbx_id ?? undefined }))
      .sort((a, b) => a.line - b.line);
    expect(got).toEqual(truth.records.map((r) => ({ line: r.line, status: r.status, pbxId: r.pbxId })).sort((a, b) => a.line - b.line));
    const missing = rows.filter((r) => r.status === 'pbx_only').map((r) => `${r.domain}/${r.pbx_id}`);
    expect(missing.sort()).toEqual(truth.pbxOnly.map((p) => `${p.domain}/${p.id}`).sort());

    // The billing team's report gains the cost section for the month.
    const reports = await runReports({
      dataDir,
      config,
      env: { smtpUrl: undefined, mailFrom: 'reports@localhost' },
      month: '2026-10',
      send: false,
      logger: silentLogger(),
      clock,
    });
    const billing = reports.reports.find((r) => r.report === 'billing-summary')!;
    const text = await readFile(billing.files.text, 'utf8');
    expect(text).toContain('COST SIDE: CARRIERS');
    expect(text).toMatch(/generic\s+\d+\s+\d+\s+7\s+3\s+5/);
    expect(text).toContain('MARGIN BY CUSTOMER (lowest first)');
    expect(await readFile(billing.files.html, 'utf8')).toContain('Margin by customer (lowest first)');
  }, 180_000);

  it('cdrpipe carrier reconcile --json: the contract object, the dispute file, exit 3', async () => {
    // The same config as a file, as an operator would keep it.
    const configFile = join(dataDir, 'cdrpipe.config.mjs');
    await writeFile(configFile, `export default ${JSON.stringify(config)};\n`);
    const r = await runCli(['carrier', 'reconcile', '--month', '2026-10', '--json', '--config', configFile], {
      env: { CDRPIPE_DATA_DIR: dataDir },
    });
    expect(r.code, r.stderr).toBe(3);
    const json = JSON.parse(r.stdout) as { month: string; carriers: Record<string, unknown>[] };
    expect(Object.keys(json)).toEqual(['month', 'carriers']);
    expect(json.month).toBe('2026-10');
    const g = json.carriers.find((c) => c['carrier'] === 'generic')!;
    expect(Object.keys(g)).toEqual([
      'carrier',
      'records',
      'matched',
      'duration_dispute',
      'cost_dispute',
      'carrier_only',
      'pbx_only',
      'carrier_cost',
      'expected_cost',
      'disputed_amount',
    ]);
    const { carrier_cost, expected_cost, disputed_amount, ...counts } = g as Record<string, string | number>;
    expect(counts).toEqual({ carrier: 'generic', records: truth.records.length, ...truth.counts });
    for (const m of [carrier_cost, expected_cost, disputed_amount]) expect(m).toMatch(/^-?\d+\.\d{2}$/);
    const cents = (s: unknown) => Math.round(Number(s) * 100);
    // Exact in micro-units; each figure rounded to cents on its own may be a cent apart.
    expect(Math.abs(cents(carrier_cost) - cents(expected_cost) - cents(disputed_amount))).toBeLessThanOrEqual(1);
    expect(r.stderr).toMatch(/carrier disputes over the thresholds: generic \(7 dispute\(s\), threshold 0, 3 phantom\(s\), threshold 0/);

    const csv = parseCsv(await readFile(join(dataDir, 'reports', '2026-10', 'carriers', 'generic', 'disputes.csv'), 'utf8'));
    expect(csv[0]).toEqual(['call_id', 'start', 'from', 'to', 'carrier_seconds', 'our_seconds', 'carrier_cost', 'expected_cost', 'reason']);
    expect(csv.length - 1).toBe(4 + 3 + 3);
    const phantomIds = truth.records.filter((x) => x.status === 'carrier_only').map((x) => x.callId);
    expect(csv.slice(1).filter((row) => phantomIds.includes(row[0]!))).toHaveLength(3);
  }, 180_000);
  it('the carrier-reconcile job: imports what waits in the inbox, moves it aside, reconciles the months it touched', async () => {
    const inbox = join(dataDir, 'inbox', 'generic');
    await mkdir(inbox, { recursive: true });
    await copyFile(file, join(inbox, 'october.csv'));
    await writeFile(join(inbox, 'wrong-header.csv'), 'when,number,money\n2026-10-01T00:00:00Z,+14155550100,1.00\n');
    await writeFile(join(inbox, 'uploading.csv.part'), 'half a file');
    await writeFile(join(inbox, '.hidden.csv'), 'not for us');
    const inboxConfig: CdrpipeConfig = { ...config, carriers: { generic: { ...config.carriers['generic'], inbox } } };
    const opts = { dataDir, config: inboxConfig, clock, logger: silentLogger() };

    const first = await runCarrierInbox(opts);
    expect(first.imported.map((f) => ({ file: f.file, months: f.months, unchanged: f.unchanged }))).toEqual([
      // The same bytes as the file imported before: nothing changes in the lake.
      { file: join(inbox, 'october.csv'), months: ['2026-10'], unchanged: true },
    ]);
    expect(first.failed.map((f) => f.file)).toEqual([join(inbox, 'wrong-header.csv')]);
    expect(first.failed[0]!.error).toMatch(/the header lacks "call_id"/);
    expect(first.reconciled.map((r) => r.month)).toEqual(['2026-10']);
    const line = first.reconciled[0]!.lines.find((l) => l.carrier === 'generic')!;
    expect(line.records).toBe(truth.records.length);
    expect(first.overThresholds).toBe(true);
    expect((await readdir(inbox)).sort()).toEqual(['.hidden.csv', 'failed', 'processed', 'uploading.csv.part']);
    expect(await readdir(join(inbox, 'processed'))).toEqual([expect.stringMatching(/-october\.csv$/)]);
    expect(await readdir(join(inbox, 'failed'))).toEqual([expect.stringMatching(/-wrong-header\.csv$/)]);

    // Nothing waits any more: the next tick imports and reconciles nothing.
    const second = await runCarrierInbox(opts);
    expect(second).toMatchObject({ imported: [], failed: [], reconciled: [], overThresholds: false });
  }, 180_000);
});
