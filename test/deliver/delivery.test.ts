import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runReports, type RunReportsOptions } from '../../pipeline/report/run-reports.ts';
import { createSmtpTransport, smtpConnectionsFor, smtpOptionsFromUrl } from '../../pipeline/deliver/smtp-transport.ts';
import type { MailTransport } from '../../pipeline/deliver/mail-transport.ts';
import { withState } from '../../pipeline/state/state-db.ts';
import { outboxDir } from '../../pipeline/lake/layout.ts';
import { parseDecimal as toScaled } from '../../pipeline/util/money.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { makeScenario, HOSTILE_FORMULA, type Scenario } from '../report/fixtures/scenario.ts';
import { parseCsv } from '../support/parse-csv.ts';

const clock = new FixedClock(new Date('2026-11-01T06:00:00Z'));
/** Every configured recipient: acme has two, the others the default usage@{domain}, plus the billing team. */
const ALL_RECIPIENTS = [
  'ops@acme.example',
  'finance@acme.example',
  'usage@globex.example',
  'usage@empty.example',
  'billing@reseller.example',
].sort();
const tinyRetry = { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 };

let sink: SmtpSink;
let s: Scenario;
let transports: MailTransport[] = [];

beforeEach(async () => {
  sink = await startSmtpSink();
  s = await makeScenario();
});
afterEach(async () => {
  for (const t of transports) await t.close();
  transports = [];
  await sink.close();
});

/** A fresh pooled SMTP transport to the sink (what SMTP_URL would build), closed after the test. */
function smtp(): MailTransport {
  const t = createSmtpTransport(sink.url, { messagesPerSecond: 1000, connectionTimeoutMs: 2000, socketTimeoutMs: 2000 });
  transports.push(t);
  return t;
}

function run(extra: Partial<RunReportsOptions> = {}) {
  return runReports({
    dataDir: s.dataDir,
    config: s.config,
    env: { smtpUrl: sink.url, mailFrom: 'reports@reseller.example' },
    month: '2026-10',
    send: true,
    logger: silentLogger(),
    clock,
    retry: tinyRetry,
    transport: smtp(),
    ...extra,
  });
}

const received = () => sink.messages.flatMap((m) => m.rcpt).sort();

async function sendsTable() {
  return withState(s.dataDir, (db) =>
    db.all(`SELECT report, domain, recipient, status, message_id, response FROM sends ORDER BY recipient`),
  );
}

describe('delivery over real SMTP', () => {
  it('each customer receives exactly its own report, with a CSV that sums to the totals; a second run sends nothing', async () => {
    const first = await run();
    expect(first.delivery).toMatchObject({ sent: 5, skipped: 0, maybeSent: 0, failed: 0 });
    expect(first.failed).toBe(false);
    expect(received()).toEqual(ALL_RECIPIENTS);

    for (const m of sink.messages) {
      const to = m.rcpt[0]!;
      const tag = String(m.mail.headers.get('x-cdrpipe-report'));
      if (to === 'billing@reseller.example') {
        expect(tag).toBe('billing-summary; 2026-10; *');
        continue;
      }
      const domain = to.split('@')[1]!;
      expect(tag).toBe(`monthly-usage; 2026-10; ${domain}`);
      const report = first.reports.find((r) => r.domain === domain)!;
      expect(m.mail.subject).toBe(report.subject);
      expect(m.mail.from?.text).toContain('reports@reseller.example');
      const html = String(m.mail.html);
      const others = ['acme', 'globex', 'empty'].filter((d) => `${d}.example` !== domain);
      for (const o of others) expect(html + m.mail.text).not.toContain(`${o}.example`);
      // The totals in the mail are the report's, and the attachment's rows add up to them.
      const csv = m.mail.attachments.find((a) => a.filename?.endsWith('.csv'))!;
      expect(csv.contentType).toBe('text/csv');
      const rows = parseCsv(csv.content.toString('utf8'));
      const h = rows[0]!;
      const body = rows.slice(1);
      expect(body.length).toBe(report.csvRows);
      expect(body.reduce((a, r) => a + BigInt(r[h.indexOf('billable_seconds')]!), 0n).toString()).toBe(report.billableSeconds);
      expect(body.reduce((a, r) => a + toScaled(r[h.indexOf('charge')]!, 6), 0n)).toBe(toScaled(report.charge, 6));
      if (!report.empty) expect(m.mail.text).toContain(`$${report.charge.replace(/0{4}$/, '')}`);
      if (domain === 'acme.example') {
        expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
        expect(html).not.toMatch(/<script/i);
        expect(body.map((r) => r[3])).toContain(`'${HOSTILE_FORMULA}`);
      }
      if (domain === 'empty.example') expect(html).toContain('No calls this month.');
    }

    const log = await sendsTable();
    expect(log).toHaveLength(5);
    for (const row of log) {
      expect(row.status).toBe('confirmed');
      expect(String(row.message_id)).toMatch(/^<.+@.+>$/);
      expect(String(row.response)).toMatch(/^250 OK: queued as Q\d+/);
    }

    const second = await run();
    expect(second.delivery).toMatchObject({ sent: 0, skipped: 5, maybeSent: 0, failed: 0 });
    expect(sink.messages).toHaveLength(5);

    const forced = await run({ force: true, domains: ['globex.example'] });
    expect(forced.delivery).toMatchObject({ sent: 1, failed: 0 }); // globex only: --domain never re-mails the billing team
    expect(sink.messages).toHaveLength(6);
  });

  it('a recipient the server rejects fails alone; the re-run sends exactly that one', async () => {
    sink.rejectRecipients.add('finance@acme.example');
    const first = await run();
    expect(first.delivery).toMatchObject({ sent: 4, failed: 1 });
    expect(first.failed).toBe(true);
    const failure = first.delivery!.outcomes.find((o) => o.outcome === 'failed')!;
    expect(failure).toMatchObject({ recipient: 'finance@acme.example', domain: 'acme.example' });
    expect(failure.reason).toMatch(/550/);
    expect(failure.attempts).toBe(1); // permanent: not retried

    sink.rejectRecipients.clear();
    const second = await run();
    expect(second.delivery).toMatchObject({ sent: 1, skipped: 4, failed: 0 });
    expect(received()).toEqual(ALL_RECIPIENTS);
  });

  it('a connection dropped mid-batch is retried, and what still failed goes out on the re-run, nothing twice', async () => {
    sink.dropAfter = 2;
    const first = await run();
    expect(first.delivery!.sent).toBe(2);
    expect(first.delivery!.failed).toBe(3);
    for (const o of first.delivery!.outcomes.filter((x) => x.outcome === 'failed')) expect(o.attempts).toBe(tinyRetry.attempts);
    expect(sink.messages).toHaveLength(2);

    sink.dropAfter = undefined;
    const second = await run();
    expect(second.delivery).toMatchObject({ sent: 3, skipped: 2, failed: 0 });
    expect(received()).toEqual(ALL_RECIPIENTS);
  });

  it('a send left pending by a crash is reported as maybe sent and not resent without --force', async () => {
    await withState(s.dataDir, (db) =>
      db.run(`INSERT INTO sends (report, domain, month, recipient, status, attempts, updated_at)
              VALUES ('monthly-usage', 'globex.example', '2026-10', 'usage@globex.example', 'pending', 1, now())`),
    );
    const first = await run();
    expect(first.delivery).toMatchObject({ sent: 4, maybeSent: 1, failed: 0 });
    expect(first.delivery!.outcomes.find((o) => o.outcome === 'maybe-sent')!.reason).toMatch(/--force/);
    expect(received()).not.toContain('usage@globex.example');

    const forced = await run({ force: true, domains: ['globex.example'] });
    expect(forced.delivery!.outcomes.find((o) => o.recipient === 'usage@globex.example')!.outcome).toBe('sent');
  });

  it('--dry-run renders everything and sends nothing', async () => {
    const r = await run({ dryRun: true });
    expect(r.mode).toBe('dry-run');
    expect(r.delivery).toBeUndefined();
    expect(r.reports).toHaveLength(4);
    expect(sink.messages).toHaveLength(0);
    expect(await withState(s.dataDir, (db) => db.all(`SELECT * FROM sends`))).toHaveLength(0);
  });

  it('refuses to send when the warehouse data tests failed, and names them', async () => {
    s = await makeScenario({
      dataTests: [
        { name: 'charges_sum_agree', status: 'fail' },
        { name: 'ids_unique', status: 'pass' },
      ],
    });
    await expect(run()).rejects.toThrow(/refusing to send.*charges_sum_agree/);
    expect(sink.messages).toHaveLength(0);
    const rendered = await run({ send: false });
    expect(rendered.failedDataTests).toEqual(['charges_sum_agree']);
  });
});

describe('outbox mode (no SMTP_URL)', () => {
  it('writes one parseable .eml per recipient, and a re-run writes none', async () => {
    const opts = { transport: undefined, env: { smtpUrl: undefined, mailFrom: 'reports@localhost' } };
    const first = await run(opts);
    expect(first.delivery).toMatchObject({ sent: 5, failed: 0 });
    expect(first.delivery!.transport).toMatch(/^outbox /);
    const files = (await readdir(outboxDir(s.dataDir))).filter((f) => f.endsWith('.eml'));
    expect(files).toHaveLength(5);
    const tos: string[] = [];
    for (const f of files) {
      const mail = await simpleParser(await readFile(join(outboxDir(s.dataDir), f)));
      tos.push(mail.to && !Array.isArray(mail.to) ? mail.to.text : '');
      expect(mail.html).toBeTruthy();
      expect(mail.text).toBeTruthy();
      expect(mail.attachments).toHaveLength(1);
    }
    expect(tos.sort()).toEqual(ALL_RECIPIENTS);
    expect((await sendsTable()).every((r) => r.status === 'sent')).toBe(true);

    const second = await run(opts);
    expect(second.delivery).toMatchObject({ sent: 0, skipped: 5 });
    expect((await readdir(outboxDir(s.dataDir))).filter((f) => f.endsWith('.eml'))).toHaveLength(5);

    // An .eml reached nobody: once a real server is configured, the reports go out for real.
    const real = await run();
    expect(real.delivery).toMatchObject({ sent: 5 });
    expect(received()).toEqual(ALL_RECIPIENTS);
  });
});

describe('SMTP_URL', () => {
  it('requires TLS except on loopback, pools connections and limits the rate', () => {
    expect(smtpOptionsFromUrl('smtp://u:p@mail.example.com:587')).toMatchObject({
      secure: false,
      requireTLS: true,
      pool: true,
      port: 587,
      auth: { user: 'u', pass: 'p' },
    });
    expect(smtpOptionsFromUrl('smtps://mail.example.com')).toMatchObject({ secure: true, port: 465 });
    expect(smtpOptionsFromUrl('smtp://127.0.0.1:2525')).toMatchObject({ secure: false, requireTLS: false, auth: undefined });
    expect(smtpOptionsFromUrl('smtp://localhost:25').requireTLS).toBe(false);
    expect(smtpOptionsFromUrl('smtp://[::1]:25').requireTLS).toBe(false);
    expect(smtpOptionsFromUrl('smtp://u:p%40ss@mail.example.com', { messagesPerSecond: 3 })).toMatchObject({
      rateLimit: 3,
      rateDelta: 1000,
      auth: { pass: 'p@ss' },
    });
    // A remote server gets the cautious default rate; a relay on loopback none unless configured.
    expect(smtpOptionsFromUrl('smtp://u:p@mail.example.com:587')).toMatchObject({ rateLimit: 5, rateDelta: 1000 });
    expect(smtpOptionsFromUrl('smtp://127.0.0.1:2525').rateLimit).toBeUndefined();
    expect(smtpOptionsFromUrl('smtp://127.0.0.1:2525', { messagesPerSecond: 20 }).rateLimit).toBe(20);
    // Connections: 16 toward a relay on loopback, 4 elsewhere, unless configured.
    expect(smtpOptionsFromUrl('smtp://127.0.0.1:2525').maxConnections).toBe(16);
    expect(smtpOptionsFromUrl('smtp://u:p@mail.example.com:587').maxConnections).toBe(4);
    expect(smtpConnectionsFor(undefined, 'smtp://[::1]:25')).toBe(16);
    expect(smtpConnectionsFor(undefined, 'smtps://mail.example.com')).toBe(4);
    expect(smtpConnectionsFor(undefined, undefined)).toBe(4);
    expect(smtpConnectionsFor(undefined, 'not a url')).toBe(4);
    expect(smtpConnectionsFor(2, 'smtp://127.0.0.1:2525')).toBe(2);
    expect(() => smtpOptionsFromUrl('http://u:secret@x')).toThrow(/smtp:\/\/ or smtps:\/\//);
    expect(() => smtpOptionsFromUrl('not a url :secret@')).not.toThrow(/secret/);
  });
});
