import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runReports } from '../../pipeline/report/run-reports.ts';
import { startPreviewServer } from '../../pipeline/report/preview-server.ts';
import { formatReportSummary } from '../../pipeline/report/format-summary.ts';
import { BILLING_HTML_ROWS, buildBillingSummaryView } from '../../pipeline/report/billing-summary-view.ts';
import { ReportRenderer } from '../../pipeline/report/render.ts';
import { reportsDir } from '../../pipeline/lake/layout.ts';
import { withState } from '../../pipeline/state/state-db.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { syntheticCalls } from './fixtures/warehouse-fixture.ts';
import { makeScenario } from './fixtures/scenario.ts';
import { parseCsv } from '../support/parse-csv.ts';

const clock = new FixedClock(new Date('2026-11-01T06:00:00Z'));
const env = { smtpUrl: undefined, mailFrom: 'reports@localhost' };

describe('billing summary', () => {
  it('shows each domain with its reconciliation status from state.duckdb', async () => {
    const s = await makeScenario();
    await withState(s.dataDir, async (db) => {
      await db.run(`INSERT INTO reconciliations (month, domain, status, detail, checked_at) VALUES
        ('2026-10', 'acme.example', 'ok', NULL, now()),
        ('2026-10', 'globex.example', 'off', 'lake has 3 calls fewer than the API', now()),
        ('2026-09', 'empty.example', 'ok', NULL, now())`);
    });
    const r = await runReports({ dataDir: s.dataDir, config: s.config, env, month: '2026-10', send: false, logger: silentLogger(), clock });
    const dir = reportsDir(s.dataDir, '2026-10');
    const csv = parseCsv(await readFile(join(dir, 'billing-summary.csv'), 'utf8'));
    const status = Object.fromEntries(csv.slice(1).map((row) => [row[1], [row[10], row[11]]]));
    expect(status).toEqual({
      'acme.example': ['ok', ''],
      'globex.example': ['off', 'lake has 3 calls fewer than the API'],
      'empty.example': ['not reconciled', ''],
    });
    const html = await readFile(join(dir, 'billing-summary.html'), 'utf8');
    expect(html).toContain('lake has 3 calls fewer than the API');
    expect(html).toContain('1 domain(s) do not reconcile.');
    const billing = r.reports.find((x) => x.report === 'billing-summary')!;
    expect(billing.subject).toBe('Example Voice Co.: billing summary for October 2026 (3 domains, 1 not reconciling)');
    expect(billing.recipients).toEqual(['billing@reseller.example']);
    expect(formatReportSummary(r)).toMatch(/billing summary: \d+ calls, \$[\d,.]+; html/);
  });

  it('never adds amounts in different currencies together', () => {
    const v = buildBillingSummaryView(
      '2026-10',
      [
        {
          domain: 'a',
          description: null,
          time_zone: 'UTC',
          calls: '1',
          answered: '1',
          billable_s: '60',
          included_s_used: '0',
          charge: '1.500000',
          currency: 'USD',
        },
        {
          domain: 'b',
          description: null,
          time_zone: 'UTC',
          calls: '2',
          answered: '2',
          billable_s: '120',
          included_s_used: '0',
          charge: '2.250000',
          currency: 'EUR',
        },
        {
          domain: 'c',
          description: null,
          time_zone: 'UTC',
          calls: '0',
          answered: '0',
          billable_s: '0',
          included_s_used: '0',
          charge: '0',
          currency: null,
        },
      ],
      [],
      { resellerName: 'R', generatedAt: 'now', customer: (d) => ({ name: d, currency: 'USD', decimals: 2 }) },
    );
    expect(v.totals).toEqual([
      { currency: 'EUR', amount: '€2.25', raw: '2.250000' },
      { currency: 'USD', amount: '$1.50', raw: '1.500000' },
    ]);
    expect(v.counts).toMatchObject({ domains: '3', calls: '3', billableMinutes: '3.0', notReconciled: 3 });
  });
});

describe('billing summary for a large reseller', () => {
  it('stays under the Gmail clip with 1,000 domains, listing the off ones and the largest charges first', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => ({
      domain: `customer${String(i).padStart(4, '0')}.pbx.example`,
      description: `Customer ${i}`,
      time_zone: 'America/New_York',
      calls: String(100 + i),
      answered: String(90 + i),
      billable_s: String(6000 + i * 60),
      included_s_used: '0',
      charge: `${i}.${String(i % 100).padStart(2, '0')}0000`,
      currency: 'USD',
    }));
    const recons = rows.map((r, i) => ({
      month: '2026-10',
      domain: r.domain,
      status: i === 7 ? 'off' : 'ok',
      detail: i === 7 ? 'lake has 1 CDR fewer than the API' : null,
    }));
    const view = buildBillingSummaryView('2026-10', rows, recons, {
      resellerName: 'R',
      generatedAt: 'now',
      customer: (d) => ({ name: d, currency: 'USD', decimals: 2 }),
    });
    expect(view.rows).toHaveLength(1000);
    expect(view.htmlRows).toHaveLength(BILLING_HTML_ROWS);
    expect(view.htmlRows[0]!.domain).toBe('customer0007.pbx.example');
    expect(view.htmlRows[1]!.domain).toBe('customer0999.pbx.example');
    expect(view.moreRows).toBe(1000 - BILLING_HTML_ROWS);
    const email = ReportRenderer.load().render('billing-summary', view);
    expect(Buffer.byteLength(email.html, 'utf8')).toBeLessThan(102 * 1024);
    expect(email.html).toContain(`and ${1000 - BILLING_HTML_ROWS} more domain(s), all reconciled`);
    expect(email.html).toContain('lake has 1 CDR fewer than the API');
    // The plain-text part still lists every domain.
    expect(email.text).toContain('customer0000.pbx.example');
  });
});

describe('report directories and preview', () => {
  it('percent-encodes odd domain names in report paths, and the preview serves only the month folder', async () => {
    const domain = 'we?rd #1.example';
    const s = await makeScenario({
      domains: [{ domain, description: 'Weird', time_zone: 'UTC' }],
      calls: syntheticCalls({ domain, month: '2026-10', count: 20 }),
    });
    const r = await runReports({ dataDir: s.dataDir, config: s.config, env, month: '2026-10', send: false, logger: silentLogger(), clock });
    const rep = r.reports.find((x) => x.domain === domain)!;
    expect(rep.files.html).toBe(join(reportsDir(s.dataDir, '2026-10'), 'we%3Frd%20%231.example', 'report.html'));

    const server = await startPreviewServer(reportsDir(s.dataDir, '2026-10'));
    try {
      const index = await (await fetch(server.url)).text();
      expect(index).toContain('billing-summary.html');
      expect(index).toContain('we%3Frd%20%231.example');
      const page = await fetch(new URL('we%253Frd%2520%25231.example/report.html', server.url));
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      expect(await page.text()).toContain('Weird');
      expect((await fetch(new URL('../state.duckdb', server.url))).status).toBe(404);
      expect((await fetch(server.url + '..%2Fwarehouse.duckdb')).status).toBe(404);
      expect((await fetch(server.url + '%2E%2E/%2E%2E/etc/passwd')).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
