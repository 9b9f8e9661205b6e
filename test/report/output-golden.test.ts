/**
 * The rendered files of a fixed month are byte-for-byte what they were: the report stage may get
 * faster (batched queries, templates inlined once, batched send-log writes) but never different.
 * Seed, domains and clock are fixed; the hashes below were taken from the per-domain, per-report
 * implementation. A deliberate change to a template, a model or a query changes them: check the
 * new output by eye (`cdrpipe report --month ... --dry-run`) and replace the hashes this test prints.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { reportsDir } from '../../pipeline/lake/layout.ts';
import { runReports } from '../../pipeline/report/run-reports.ts';
import { runTransform } from '../../pipeline/transform/run-transform.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { ingestFromSimulator, standardPlan } from '../support/simulator-lake.ts';
import { tempDir } from '../support/temp-dir.ts';
import { testConfig } from '../support/test-config.ts';

const NOW = new Date('2026-11-05T12:00:00Z');

/** sha256 (first 16 hex digits) of every file under reports/2026-10/, by relative path. */
const GOLDEN: Record<string, string> = {
  'billing-summary.csv': '2970d959487a002d',
  'billing-summary.html': 'b5ac3caefea1725c',
  'billing-summary.txt': 'f70d0a8b0e248845',
  'deltamotors.pbx.example/calls.csv': 'f4262ff0fd52afd2',
  'deltamotors.pbx.example/report.html': '64defa586b3f72d7',
  'deltamotors.pbx.example/report.txt': 'd5142be53262c5a4',
  'garciacpa.pbx.example/calls.csv': '7babaf69e38018db',
  'garciacpa.pbx.example/report.html': 'b767de3b8e19233f',
  'garciacpa.pbx.example/report.txt': '2a80617198a5e502',
  'silverlinerealty.pbx.example/calls.csv': '7bd9f29a4e21ab5c',
  'silverlinerealty.pbx.example/report.html': '16cbf8499544b8b6',
  'silverlinerealty.pbx.example/report.txt': 'fafd25c74f8995d8',
  'sterlinglaw.pbx.example/calls.csv': '6abef39927351c18',
  'sterlinglaw.pbx.example/report.html': 'd954d71b42ad6cf1',
  'sterlinglaw.pbx.example/report.txt': '102480c2c1b70e65',
  'summitdental.pbx.example/calls.csv': '0166c8f95522e0da',
  'summitdental.pbx.example/report.html': '3af11f8480cca605',
  'summitdental.pbx.example/report.txt': 'baf9c73f4bad6f72',
  'tridentplumbing.pbx.example/calls.csv': '826541b35ccb9a3f',
  'tridentplumbing.pbx.example/report.html': '97cd6d9eb2f04ea3',
  'tridentplumbing.pbx.example/report.txt': '4128fdf088665158',
};

async function hashTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out[relative(dir, path)] = createHash('sha256')
      .update(await readFile(path))
      .digest('hex')
      .slice(0, 16);
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

describe('report output for a fixed seed', () => {
  let dataDir: string;
  const clock = new FixedClock(NOW);
  const config = testConfig({
    reseller: { name: 'Example Voice Co. <& "partners">', billingEmails: ['billing@reseller.example'] },
    plans: { standard: standardPlan(100) },
    customers: { defaults: { plan: 'standard', recipients: ['usage@{domain}'] } },
  });

  beforeAll(async () => {
    dataDir = await tempDir('cdrpipe-report-golden-');
    await ingestFromSimulator({
      dataDir,
      config,
      clock,
      simulator: { seed: 11, domains: 6, dataFrom: new Date('2026-09-01T00:00:00Z'), dataTo: new Date('2026-11-02T00:00:00Z') },
      from: new Date('2026-08-30T00:00:00Z'),
      to: new Date('2026-11-03T00:00:00Z'),
    });
    const t = await runTransform({ dataDir, config, logger: silentLogger(), clock });
    expect(t.failedTests).toEqual([]);
  });

  it('renders the same report.html, report.txt and calls.csv for every domain, and the same billing summary', async () => {
    const s = await runReports({
      dataDir,
      config,
      env: { smtpUrl: undefined, mailFrom: 'reports@reseller.example' },
      month: '2026-10',
      send: false,
      logger: silentLogger(),
      clock,
    });
    expect(s.renderFailures).toEqual([]);
    expect(s.reports.filter((r) => r.report === 'monthly-usage')).toHaveLength(6);
    const hashes = await hashTree(reportsDir(dataDir, '2026-10'));
    if (JSON.stringify(hashes) !== JSON.stringify(GOLDEN)) console.log(JSON.stringify(hashes, null, 2));
    expect(Object.keys(hashes)).toHaveLength(6 * 3 + 3);
    expect(hashes).toEqual(GOLDEN);
  });
});
