import { existsSync } from 'node:fs';
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../pipeline/cli/main.ts';
import { readEnv } from '../../pipeline/config/env.ts';
import { parseConfig } from '../../pipeline/config/load-config.ts';
import { resolveRecipients } from '../../pipeline/config/resolve-recipients.ts';
import { deliver, type DeliveryItem } from '../../pipeline/deliver/deliver.ts';
import type { MailTransport } from '../../pipeline/deliver/mail-transport.ts';
import { createOutboxTransport } from '../../pipeline/deliver/outbox-transport.ts';
import { createSmtpTransport } from '../../pipeline/deliver/smtp-transport.ts';
import { outboxDir, warehousePath } from '../../pipeline/lake/layout.ts';
import { runReports, type RunReportsOptions } from '../../pipeline/report/run-reports.ts';
import { formatStatus, gatherStatus } from '../../pipeline/schedule/status-report.ts';
import { recordAnomaly, resolveAnomaliesWithin } from '../../pipeline/state/anomalies.ts';
import { withState } from '../../pipeline/state/state-db.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { ConfigError, exitCodeOf } from '../../pipeline/util/errors.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { isDnsHostName, mailAddressProblem } from '../../pipeline/util/mail-address.ts';
import { DOMAINS, makeScenario, scenarioConfig, type Scenario } from '../report/fixtures/scenario.ts';
import { tempDir } from '../support/temp-dir.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { syntheticCalls } from '../report/fixtures/warehouse-fixture.ts';

const clock = new FixedClock(new Date('2026-11-01T06:00:00Z'));
const tinyRetry = { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 };
/** A PBX domain whose name, put into `usage@{domain}`, reads as three addresses to a mail library. */
const HOSTILE_DOMAIN = 'victim.example>, attacker@evil.example, <x';
/** What the scenario's config reaches; the hostile domain adds nothing. */
const LEGIT = [
  'ops@acme.example',
  'finance@acme.example',
  'usage@globex.example',
  'usage@empty.example',
  'billing@reseller.example',
].sort();

let sink: SmtpSink;
let transports: MailTransport[] = [];
beforeEach(async () => {
  sink = await startSmtpSink();
});
afterEach(async () => {
  for (const t of transports) await t.close();
  transports = [];
  await sink.close();
});

function smtp(): MailTransport {
  const t = createSmtpTransport(sink.url, { messagesPerSecond: 1000, connectionTimeoutMs: 2000, socketTimeoutMs: 2000 });
  transports.push(t);
  return t;
}

let hostileWarehouse: string | undefined;

/** The scenario's customers with few calls each, plus the hostile domain; the warehouse is built once per file. */
async function hostileScenario(): Promise<Scenario> {
  const s = await makeScenario();
  if (!hostileWarehouse) {
    const built = await makeScenario({
      domains: [...DOMAINS, { domain: HOSTILE_DOMAIN, description: 'Victim Ltd', time_zone: 'UTC' }],
      calls: [
        ...syntheticCalls({ domain: 'acme.example', month: '2026-10', count: 20, seed: 1 }),
        ...syntheticCalls({ domain: 'globex.example', month: '2026-10', count: 10, seed: 3 }),
        ...syntheticCalls({ domain: HOSTILE_DOMAIN, month: '2026-10', count: 12, seed: 7 }),
      ],
    });
    hostileWarehouse = warehousePath(built.dataDir);
  }
  await copyFile(hostileWarehouse, warehousePath(s.dataDir));
  return s;
}

function run(s: Scenario, extra: Partial<RunReportsOptions> = {}) {
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

/** Every address in the parsed To:, Cc: and Bcc: headers. */
function headerAddresses(mail: ParsedMail): string[] {
  const list = (v: AddressObject | AddressObject[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  return [...list(mail.to), ...list(mail.cc), ...list(mail.bcc)].flatMap((o) => o.value.map((a) => a.address ?? `(no address: ${a.name})`));
}

async function openRecipientAnomalies(dataDir: string) {
  return withState(dataDir, (db) =>
    db.all(`SELECT domain, kind, detail FROM anomalies WHERE resolved_at IS NULL AND kind = 'recipient-dropped'`),
  );
}

describe('a domain name never adds a recipient', () => {
  it('over SMTP: the envelope and the To: header hold exactly the configured addresses; the hostile domain gets none and an anomaly', async () => {
    const s = await hostileScenario();
    const first = await run(s);
    expect(first.delivery).toMatchObject({ sent: 5, failed: 0, maybeSent: 0 });

    const rcpts = sink.messages.flatMap((m) => m.rcpt).sort();
    expect(rcpts).toEqual(LEGIT);
    for (const m of sink.messages) {
      expect(m.rcpt).toHaveLength(1);
      expect(headerAddresses(m.mail)).toEqual(m.rcpt);
    }
    expect(JSON.stringify(sink.messages.map((m) => [m.rcpt, m.mail.headerLines]))).not.toMatch(/evil\.example|victim\.example/);

    const victim = first.reports.find((r) => r.domain === HOSTILE_DOMAIN)!;
    expect(victim.recipients).toEqual([]);
    expect(first.noRecipients).toContain(HOSTILE_DOMAIN);
    expect(first.droppedRecipients).toEqual([
      { domain: HOSTILE_DOMAIN, template: 'usage@{domain}', reason: expect.stringMatching(/not a valid DNS host name/) },
    ]);

    const anomalies = await openRecipientAnomalies(s.dataDir);
    expect(anomalies).toEqual([{ domain: HOSTILE_DOMAIN, kind: 'recipient-dropped', detail: expect.stringMatching(/usage@\{domain\}/) }]);
    const status = await gatherStatus({ dataDir: s.dataDir, config: s.config, clock });
    expect(status.anomalies.open).toBe(1);
    expect(formatStatus(status)).toMatch(/recipient-dropped.*not a valid DNS host name/);

    // A re-run sends nothing more and does not repeat the anomaly.
    const second = await run(s);
    expect(second.delivery).toMatchObject({ sent: 0, skipped: 5, failed: 0 });
    expect(await openRecipientAnomalies(s.dataDir)).toHaveLength(1);

    // Once the domain gets an explicit address, the anomaly for that month is resolved.
    const fixed = {
      ...s.config,
      customers: {
        ...s.config.customers,
        domains: { ...s.config.customers.domains, [HOSTILE_DOMAIN]: { recipients: ['billing-contact@victim.example'] } },
      },
    };
    const third = await run({ ...s, config: fixed }, { domains: [HOSTILE_DOMAIN] });
    expect(third.delivery).toMatchObject({ sent: 1, failed: 0 });
    expect(sink.messages.at(-1)!.rcpt).toEqual(['billing-contact@victim.example']);
    expect(await openRecipientAnomalies(s.dataDir)).toEqual([]);
  });

  it('in the outbox: one .eml per recipient, each with exactly one To: address, none for the hostile domain', async () => {
    const s = await hostileScenario();
    const r = await run(s, { transport: undefined, env: { smtpUrl: undefined, mailFrom: 'reports@localhost' } });
    expect(r.delivery).toMatchObject({ sent: 5, failed: 0 });
    const files = (await readdir(outboxDir(s.dataDir))).filter((f) => f.endsWith('.eml'));
    expect(files).toHaveLength(5);
    const tos: string[] = [];
    for (const f of files) {
      const mail = await simpleParser(await readFile(join(outboxDir(s.dataDir), f)));
      const addresses = headerAddresses(mail);
      expect(addresses).toHaveLength(1);
      tos.push(addresses[0]!);
    }
    expect(tos.sort()).toEqual(LEGIT);
    expect(await openRecipientAnomalies(s.dataDir)).toHaveLength(1);
  });

  it('resolveRecipients fills {domain} only with DNS host names and never returns a list in one entry', () => {
    expect(resolveRecipients(['usage@{domain}', 'ops@reseller.example', 'usage@{domain}'], 'acme.example')).toEqual({
      recipients: ['usage@acme.example', 'ops@reseller.example'],
      dropped: [],
    });
    for (const bad of [HOSTILE_DOMAIN, 'under_score.example', 'a b.example', '1.2.3.4', 'x.example,y@z.example', '']) {
      const r = resolveRecipients(['usage@{domain}', 'ops@reseller.example'], bad);
      expect(r.recipients).toEqual(['ops@reseller.example']);
      expect(r.dropped).toEqual([{ template: 'usage@{domain}', reason: expect.stringMatching(/not a valid DNS host name/) }]);
    }
  });

  it('an ingest that stores a window completely leaves recipient anomalies open', async () => {
    const dir = await tempDir('cdrpipe-report-');
    const ws = new Date('2026-10-01T00:00:00Z');
    const we = new Date('2026-11-01T00:00:00Z');
    await withState(dir, async (db) => {
      await recordAnomaly(
        db,
        { domain: 'bad_name', windowStart: ws, windowEnd: we, kind: 'recipient-dropped', expected: null, got: null, detail: 'x' },
        clock.now(),
      );
      await resolveAnomaliesWithin(db, 'bad_name', ws, we, clock.now());
    });
    expect(await openRecipientAnomalies(dir)).toHaveLength(1);
  });
});

describe('a message without exactly one valid recipient is never sent', () => {
  const item = (recipient: string, to = recipient): DeliveryItem => ({
    report: 'monthly-usage',
    domain: 'acme.example',
    month: '2026-10',
    recipient,
    mail: {
      from: { name: '', address: 'reports@reseller.example' },
      to: { name: '', address: to },
      subject: 's',
      html: '<p>h</p>',
      text: 't',
      attachments: [],
    },
  });
  const bad = [item('not-an-email'), item('a@x.example, b@y.example'), item('ops@acme.example', 'ops@acme.example, attacker@evil.example')];

  it('through the outbox: no .eml, nothing counted or logged as sent', async () => {
    const dir = await tempDir('cdrpipe-report-');
    const transport = createOutboxTransport(outboxDir(dir), clock);
    const r = await deliver(bad, { dataDir: dir, transport, clock, logger: silentLogger(), retry: tinyRetry });
    expect(r).toMatchObject({ sent: 0, failed: 3 });
    for (const o of r.outcomes) expect(o.reason).toMatch(/nothing sent/);
    expect(existsSync(outboxDir(dir)) ? (await readdir(outboxDir(dir))).filter((f) => f.endsWith('.eml')) : []).toEqual([]);
    expect(await withState(dir, (db) => db.all(`SELECT * FROM sends WHERE status IN ('sent', 'confirmed')`))).toEqual([]);
  });

  it('through SMTP: the server never sees the message', async () => {
    const dir = await tempDir('cdrpipe-report-');
    const r = await deliver(bad, { dataDir: dir, transport: smtp(), clock, logger: silentLogger(), retry: tinyRetry });
    expect(r).toMatchObject({ sent: 0, failed: 3 });
    expect(sink.messages).toHaveLength(0);
  });

  it('each transport refuses a message whose recipient or sender is not one address', async () => {
    const dir = await tempDir('cdrpipe-report-');
    const mail = item('ops@acme.example', 'a@x.example, b@y.example').mail;
    await expect(createOutboxTransport(outboxDir(dir), clock).send(mail)).rejects.toThrow(/holds 2 addresses/);
    await expect(smtp().send(mail)).rejects.toThrow(/holds 2 addresses/);
    const twoSenders = { ...item('ops@acme.example').mail, from: { name: '', address: 'a@x.example, b@y.example' } };
    await expect(smtp().send(twoSenders)).rejects.toThrow(/sender.*holds 2 addresses/);
    expect(sink.messages).toHaveLength(0);
    expect(existsSync(outboxDir(dir))).toBe(false);
  });
});

/** The parts of a config input these cases change. */
interface RecipientsInput {
  reseller: { name: string; billingEmails: string[]; operatorEmail: string };
  plans: Record<string, unknown>;
  customers: { defaults: { recipients: string[] }; domains: Record<string, { recipients: string[] }> };
  jobs: Record<string, unknown>;
}

describe('configured addresses are exactly one address each (config error, exit 2)', () => {
  const withRecipients = (patch: (c: RecipientsInput) => void) => {
    const input: RecipientsInput = {
      reseller: { name: 'R', billingEmails: ['billing@reseller.example'], operatorEmail: 'ops@reseller.example' },
      plans: {
        standard: {
          version: '1',
          rateDeck: 'reports/rates/standard.csv',
          inbound: { perMinute: '0.01' },
          tollFreeInbound: { perMinute: '0.02' },
        },
      },
      customers: { defaults: { recipients: ['usage@{domain}'] }, domains: {} },
      jobs: {},
    };
    patch(input);
    return () => parseConfig(input);
  };

  it.each([
    ['customers.defaults.recipients.0', (c: RecipientsInput) => (c.customers.defaults.recipients = ['not-an-email']), /not an address/],
    [
      'customers.domains.acme.example.recipients.1',
      (c: RecipientsInput) => (c.customers.domains['acme.example'] = { recipients: ['ops@acme.example', 'a@x.example, b@y.example'] }),
      /holds 2 addresses/,
    ],
    [
      'customers.defaults.recipients.0',
      (c: RecipientsInput) => (c.customers.defaults.recipients = ['usage@{domain}, attacker@evil.example']),
      /holds 2 addresses/,
    ],
    [
      'customers.defaults.recipients.0',
      (c: RecipientsInput) => (c.customers.defaults.recipients = ['Usage <usage@{domain}>']),
      /not a bare address/,
    ],
    [
      'reseller.billingEmails.0',
      (c: RecipientsInput) => (c.reseller.billingEmails = ['billing@reseller.example; cfo@reseller.example']),
      /holds 2 addresses/,
    ],
    ['reseller.operatorEmail', (c: RecipientsInput) => (c.reseller.operatorEmail = 'ops'), /not an address/],
  ])('%s', (field, patch, why) => {
    const parse = withRecipients(patch);
    let err: unknown;
    try {
      parse();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe(field);
    expect((err as Error).message).toMatch(why);
    expect(exitCodeOf(err)).toBe(2);
  });

  it('accepts single addresses, {domain} templates and the shipped defaults', () => {
    expect(() =>
      withRecipients((c) => (c.customers.defaults.recipients = ['usage@{domain}', "o'brien+{domain}@reseller.example", 'ops@localhost']))(),
    ).not.toThrow();
  });

  it('MAIL_FROM must be one address', () => {
    expect(readEnv({ MAIL_FROM: 'reports@reseller.example' }).mailFrom).toBe('reports@reseller.example');
    expect(readEnv({}).mailFrom).toBe('reports@localhost');
    for (const v of ['a@x.example, b@y.example', 'Reports <reports@x.example>', 'reports']) {
      expect(() => readEnv({ MAIL_FROM: v })).toThrow(ConfigError);
      expect(() => readEnv({ MAIL_FROM: v })).toThrow(/MAIL_FROM must be exactly one address/);
    }
  });

  it('a report run refuses a sender that is not one address', async () => {
    const s = await makeScenario();
    await expect(run(s, { env: { smtpUrl: sink.url, mailFrom: 'a@x.example, b@y.example' } })).rejects.toThrow(ConfigError);
    expect(sink.messages).toHaveLength(0);
  });

  it('`cdrpipe report --send` with an invalid recipient exits 2 naming the field and writes no .eml', async () => {
    const s = await makeScenario();
    const configFile = join(s.dataDir, 'bad.config.ts');
    await writeFile(
      configFile,
      `export default ${JSON.stringify({
        reseller: { name: 'R', billingEmails: [] },
        plans: {
          standard: {
            version: '1',
            rateDeck: 'reports/rates/standard.csv',
            inbound: { perMinute: '0.01' },
            tollFreeInbound: { perMinute: '0.02' },
          },
        },
        customers: { defaults: { recipients: ['not-an-email'] } },
        jobs: {},
      })};\n`,
    );
    const saved = { ...process.env };
    let out = '';
    const capture = (chunk: string | Uint8Array) => ((out += String(chunk)), true);
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    try {
      Object.assign(process.env, { CDRPIPE_DATA_DIR: s.dataDir, CDRPIPE_CONFIG: configFile, CDRPIPE_LOG_LEVEL: 'silent' });
      delete process.env.SMTP_URL;
      delete process.env.MAIL_FROM;
      const code = await main(['node', 'cdrpipe', 'report', '--month', '2026-10', '--send']);
      process.exitCode = undefined;
      expect(code).toBe(2);
    } finally {
      vi.restoreAllMocks();
      process.env = saved;
    }
    expect(out).toMatch(/customers\.defaults\.recipients\.0/);
    expect(existsSync(outboxDir(s.dataDir))).toBe(false);
  });
});

describe('address syntax', () => {
  it.each([
    ['ops@acme.example', true],
    ['reports@localhost', true],
    ["o'brien+tag@Acme-Corp.example", true],
    ['not-an-email', false],
    ['a@x.example, b@y.example', false],
    ['a@x.example;b@y.example', false],
    ['a@x.example b@y.example', false],
    ['Ops <ops@acme.example>', false],
    ['<ops@acme.example>', false],
    ['"a b"@acme.example', false],
    ['ops(comment)@acme.example', false],
    ['group: a@x.example, b@y.example;', false],
    ['ops@acme.example\r\nBcc: x@evil.example', false],
    ['ops@[192.0.2.1]', false],
    ['ops@192.0.2.1', false],
    ['ops@under_score.example', false],
    ['o..ps@acme.example', false],
    [`${'a'.repeat(65)}@acme.example`, false],
    ['', false],
  ])('%j -> %s', (text, ok) => {
    expect(mailAddressProblem(text) === undefined).toBe(ok);
  });
  it('DNS host names', () => {
    expect(['acme.example', 'xn--bcher-kva.example', 'a-b.c', 'localhost', '12345.service'].every(isDnsHostName)).toBe(true);
    expect(
      [HOSTILE_DOMAIN, '-a.example', 'a-.example', 'a..b', 'a.example.', `${'a'.repeat(64)}.example`, '1.2.3.4', ''].some(isDnsHostName),
    ).toBe(false);
  });
});

// The scenario helper's default config keeps working under the stricter rules.
it('the scenario config is valid', () => {
  expect(scenarioConfig().customers.defaults.recipients).toEqual(['usage@{domain}']);
});
