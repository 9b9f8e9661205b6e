/**
 * The whole chain the "done when" names: simulator -> ingest -> transform (the real models and
 * data tests) -> `report --send` to a loopback SMTP server; a second run delivers nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dir.ts';
import { testConfig } from '../support/test-config.ts';
import { runIngest } from '../../pipeline/extract/run-ingest.ts';
import { startSimulator, type RunningSimulator } from '../../pipeline/simulator/index.ts';
import { HOSTILE_CALLER_NAMES } from '../../pipeline/simulator/cdr-gen.ts';
import { runTransform } from '../../pipeline/transform/run-transform.ts';
import { runReports } from '../../pipeline/report/run-reports.ts';
import { createSmtpTransport } from '../../pipeline/deliver/smtp-transport.ts';
import { parseDecimal as toScaled } from '../../pipeline/util/money.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { parseCsv } from '../support/parse-csv.ts';
import { simulatorClient, standardPlan } from '../support/simulator-lake.ts';

const NOW = new Date('2026-11-05T12:00:00Z');

describe('simulator -> ingest -> transform -> report --send', () => {
  let dataDir: string;
  let sim: RunningSimulator;
  let sink: SmtpSink;
  const clock = new FixedClock(NOW);
  const config = testConfig({
    reseller: { name: 'Example Voice Co.', billingEmails: ['billing@reseller.example'], operatorEmail: undefined },
    plans: { standard: standardPlan(100) },
    customers: { defaults: { plan: 'standard', recipients: ['usage@{domain}', 'boss@{domain}'] } },
    jobs: {},
  });

  beforeAll(async () => {
    dataDir = await tempDir('cdrpipe-report-e2e-');
    sim = await startSimulator({
      seed: 5,
      domains: 3,
      clock,
      dataFrom: new Date('2026-09-01T00:00:00Z'),
      dataTo: new Date('2026-11-02T00:00:00Z'),
    });
    sink = await startSmtpSink();
    const source = simulatorClient(sim.url);
    await runIngest({
      dataDir,
      config,
      source,
      clock,
      logger: silentLogger(),
      from: new Date('2026-08-30T00:00:00Z'),
      to: new Date('2026-11-03T00:00:00Z'),
    });
    const t = await runTransform({ dataDir, config, logger: silentLogger(), clock });
    expect(t.failedTests).toEqual([]);
  });
  afterAll(async () => {
    await sink?.close();
    await sim?.close();
  });

  it('delivers one message per configured recipient of every domain, then none', async () => {
    const run = async () => {
      const transport = createSmtpTransport(sink.url, { messagesPerSecond: 1000 });
      try {
        return await runReports({
          dataDir,
          config,
          env: { smtpUrl: sink.url, mailFrom: 'reports@reseller.example' },
          month: '2026-10',
          send: true,
          logger: silentLogger(),
          clock,
          transport,
          retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
        });
      } finally {
        await transport.close();
      }
    };
    let hostileSeen = 0;
    const first = await run();
    const customers = first.reports.filter((r) => r.report === 'monthly-usage');
    expect(customers).toHaveLength(3);
    expect(first.delivery).toMatchObject({ sent: 3 * 2 + 1, failed: 0, maybeSent: 0 });
    const expected = [...customers.flatMap((r) => [`usage@${r.domain}`, `boss@${r.domain}`]), 'billing@reseller.example'].sort();
    expect(sink.messages.flatMap((m) => m.rcpt).sort()).toEqual(expected);

    for (const m of sink.messages) {
      const domain = m.rcpt[0]!.split('@')[1]!;
      const report = customers.find((r) => r.domain === domain);
      if (!report) continue;
      expect(Number(report.calls)).toBeGreaterThan(0);
      const rows = parseCsv(m.mail.attachments[0]!.content.toString('utf8'));
      const h = rows[0]!;
      expect(
        rows
          .slice(1)
          .reduce((a, r) => a + BigInt(r[h.indexOf('billable_seconds')]!), 0n)
          .toString(),
      ).toBe(report.billableSeconds);
      expect(rows.slice(1).reduce((a, r) => a + toScaled(r[h.indexOf('charge')]!, 6), 0n)).toBe(toScaled(report.charge, 6));
      for (const other of customers.filter((c) => c.domain !== domain))
        expect(String(m.mail.html) + m.mail.text).not.toContain(other.domain);
      // The simulator slips hostile caller names (<script>, =HYPERLINK, ...) into some calls.
      expect(String(m.mail.html)).not.toMatch(/<script/i);
      for (const row of rows) for (const cell of row) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
      const nameCol = h.indexOf('caller_name');
      hostileSeen += rows
        .slice(1)
        .filter((r) => HOSTILE_CALLER_NAMES.some((name) => /^[=+\-@]/.test(name) && r[nameCol] === `'${name}`)).length;
    }
    console.log(`hostile caller names neutralised in the CSVs: ${hostileSeen}`);
    for (const r of first.reports) expect(r.htmlBytes).toBeLessThan(102 * 1024);

    const second = await run();
    expect(second.delivery).toMatchObject({ sent: 0, skipped: 7, failed: 0 });
    expect(sink.messages).toHaveLength(7);
  });
});
