import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runReports, type ReportRunSummary } from '../../pipeline/report/run-reports.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { reportsDir, warehousePath } from '../../pipeline/lake/layout.ts';
import { parseDecimal as toScaled } from '../../pipeline/util/money.ts';
import { GMAIL_CLIP_BYTES } from '../../pipeline/report/render.ts';
import { buildWarehouse, syntheticCalls } from './fixtures/warehouse-fixture.ts';
import { HOSTILE_FORMULA, HOSTILE_NAME, makeScenario, type Scenario } from './fixtures/scenario.ts';
import { tempDir } from '../support/temp-dir.ts';
import { parseCsv } from '../support/parse-csv.ts';

const clock = new FixedClock(new Date('2026-11-01T06:00:00Z'));
const env = { smtpUrl: undefined, mailFrom: 'reports@localhost' };

async function render(s: Scenario, extra: Partial<Parameters<typeof runReports>[0]> = {}): Promise<ReportRunSummary> {
  return runReports({ dataDir: s.dataDir, config: s.config, env, month: '2026-10', send: false, logger: silentLogger(), clock, ...extra });
}

/** Checks every HTML report shares: email-safe, escaped, inlined. */
function expectEmailSafe(html: string): void {
  expect(html).not.toMatch(/<style/i);
  expect(html).not.toMatch(/<script/i);
  expect(html).not.toMatch(/<svg/i);
  expect(html).not.toMatch(/<img|<link|src=|url\(/i);
  expect(html).not.toMatch(/\son\w+=/i);
  expect(Buffer.byteLength(html)).toBeLessThan(GMAIL_CLIP_BYTES);
}

describe('rendering customer reports', () => {
  let s: Scenario;
  let summary: ReportRunSummary;
  beforeAll(async () => {
    s = await makeScenario();
    summary = await render(s);
  });

  it('writes report.html, report.txt and calls.csv per domain, and the billing summary', async () => {
    const dir = reportsDir(s.dataDir, '2026-10');
    for (const d of ['acme.example', 'globex.example', 'empty.example']) {
      for (const f of ['report.html', 'report.txt', 'calls.csv']) expect((await stat(join(dir, d, f))).size).toBeGreaterThan(0);
    }
    for (const f of ['billing-summary.html', 'billing-summary.txt', 'billing-summary.csv'])
      expect((await stat(join(dir, f))).size).toBeGreaterThan(0);
    expect(summary.mode).toBe('render');
    expect(summary.delivery).toBeUndefined();
    expect(summary.failed).toBe(false);
  });

  it('escapes hostile names in HTML and neutralises them in the CSV', async () => {
    const acme = summary.reports.find((r) => r.domain === 'acme.example')!;
    const html = await readFile(acme.files.html, 'utf8');
    expectEmailSafe(html);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('Acme &lt;b&gt;Corp&lt;/b&gt; &amp; &quot;Sons&quot;');
    expect(html).toContain('&#x3D;HYPERLINK(&quot;http://evil.example/x&quot;'); // Handlebars escapes = too
    const text = await readFile(acme.files.text, 'utf8');
    expect(text).toContain(HOSTILE_NAME); // plain text is not HTML: shown as typed
    const rows = parseCsv(await readFile(acme.files.csv, 'utf8'));
    const names = rows.slice(1).map((r) => r[3]);
    expect(names).toContain(`'${HOSTILE_FORMULA}`);
    expect(names).not.toContain(HOSTILE_FORMULA);
    for (const row of rows.slice(1)) for (const cell of row) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
  });

  it('CSV rows sum to the report totals', async () => {
    for (const r of summary.reports.filter((x) => x.report === 'monthly-usage')) {
      const rows = parseCsv(await readFile(r.files.csv, 'utf8'));
      const header = rows[0]!;
      const bs = header.indexOf('billable_seconds');
      const ch = header.indexOf('charge');
      const body = rows.slice(1);
      expect(body.length).toBe(r.csvRows);
      expect(body.reduce((a, row) => a + BigInt(row[bs]!), 0n).toString()).toBe(r.billableSeconds);
      expect(body.reduce((a, row) => a + toScaled(row[ch]!, 6), 0n)).toBe(toScaled(r.charge, 6));
    }
    const acme = summary.reports.find((r) => r.domain === 'acme.example')!;
    expect(Number(acme.calls)).toBeGreaterThan(200);
    expect(acme.csvRows).toBeGreaterThan(100);
  });

  it("a report never contains another domain's data", async () => {
    const acme = summary.reports.find((r) => r.domain === 'acme.example')!;
    const globex = summary.reports.find((r) => r.domain === 'globex.example')!;
    const acmeAll =
      (await readFile(acme.files.html, 'utf8')) + (await readFile(acme.files.text, 'utf8')) + (await readFile(acme.files.csv, 'utf8'));
    const globexAll =
      (await readFile(globex.files.html, 'utf8')) +
      (await readFile(globex.files.text, 'utf8')) +
      (await readFile(globex.files.csv, 'utf8'));
    expect(acmeAll).not.toMatch(/globex/i);
    expect(acmeAll).not.toContain('Globex Person');
    expect(globexAll).not.toMatch(/acme/i);
    expect(globexAll).not.toContain('alert(1)');
    expect(globexAll).not.toContain('Carol Example');
    for (const row of parseCsv(await readFile(globex.files.csv, 'utf8')).slice(1)) expect(row[12]).toMatch(/^globex\.example-/);
  });

  it('an empty month renders a clear "no calls" report', async () => {
    const empty = summary.reports.find((r) => r.domain === 'empty.example')!;
    expect(empty.empty).toBe(true);
    const html = await readFile(empty.files.html, 'utf8');
    expectEmailSafe(html);
    expect(html).toContain('No calls this month.');
    expect(await readFile(empty.files.text, 'utf8')).toContain('NO CALLS THIS MONTH.');
    expect(empty.subject).toContain('(no calls)');
    expect(parseCsv(await readFile(empty.files.csv, 'utf8'))).toHaveLength(1);
  });

  it('shows the month-over-month change against the previous local month', async () => {
    const text = await readFile(summary.reports.find((r) => r.domain === 'acme.example')!.files.text, 'utf8');
    expect(text).toMatch(/COMPARED WITH SEPTEMBER 2026/);
    expect(text).toMatch(/Calls\s+[\d,]+\s+[\d,]+\s+[+-]\d+\.\d%/);
  });

  it('the billing summary lists every domain, "not reconciled" without reconciliation rows', async () => {
    const csv = parseCsv(await readFile(join(reportsDir(s.dataDir, '2026-10'), 'billing-summary.csv'), 'utf8'));
    expect(csv.slice(1).map((r) => r[1])).toEqual(['acme.example', 'empty.example', 'globex.example']);
    expect(csv.slice(1).every((r) => r[10] === 'not reconciled')).toBe(true);
    const acme = summary.reports.find((r) => r.domain === 'acme.example')!;
    expect(toScaled(csv[1]![8]!, 6)).toBe(toScaled(acme.charge, 6));
  });

  it('--domain limits customer reports and refuses unknown domains', async () => {
    const one = await render(s, { domains: ['globex.example'] });
    expect(one.reports.filter((r) => r.report === 'monthly-usage').map((r) => r.domain)).toEqual(['globex.example']);
    await expect(render(s, { domains: ['nope.example'] })).rejects.toThrow(/--domain: no domain "nope.example"/);
  });
});

describe('the busiest customer', () => {
  it('stays under 102 KB of HTML with thousands of calls and hundreds of users and destinations', async () => {
    const dataDir = await tempDir('cdrpipe-busy-');
    const calls = syntheticCalls({
      domain: 'busy.example',
      month: '2026-10',
      count: 12_000,
      users: 400,
      destinations: 900,
      seed: 9,
      callerName: (u) => `Very Long Caller Name For User Number ${u} <&>`,
    });
    await buildWarehouse(
      warehousePath(dataDir),
      [{ domain: 'busy.example', description: 'Busy Inc', time_zone: 'America/Los_Angeles' }],
      calls,
      { dataTests: [] },
    );
    const summary = await render({ dataDir, config: (await makeScenario()).config });
    const busy = summary.reports.find((r) => r.domain === 'busy.example')!;
    expect(busy.csvRows).toBeGreaterThan(8000);
    const html = await readFile(busy.files.html, 'utf8');
    expectEmailSafe(html);
    expect(busy.htmlBytes).toBeLessThan(GMAIL_CLIP_BYTES);
    expect(html).toMatch(/and \d+ more/);
    console.log(`busiest customer: ${busy.calls} calls, html ${busy.htmlBytes} bytes`);
  });
});
