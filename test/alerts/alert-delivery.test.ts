import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import { alertChannels, deliverAlerts, listAlerts, recordEvaluation, signWebhook, verifyWebhook } from '../../pipeline/alerts/index.ts';
import { claimDelivery } from '../../pipeline/alerts/deliver-log.ts';
import { createTransportFromEnv } from '../../pipeline/deliver/index.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { tempDir } from '../support/temp-dir.ts';
import { testConfig } from '../support/test-config.ts';
import { finding, startReceiver } from './helpers.ts';

const SECRET = 'test-webhook-secret-0123456789';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(behave?: Parameters<typeof startReceiver>[0]) {
  const dataDir = await tempDir();
  const receiver = await startReceiver(behave);
  cleanups.push(() => receiver.close());
  const clock = new FixedClock(new Date());
  const config = testConfig({
    alerts: { delivery: { webhook: { url: receiver.url, timeoutMs: 300, attempts: 4, baseDelayMs: 1, maxDelayMs: 5 } } },
  });
  const env = { mailFrom: 'alerts@reseller.example', alertWebhookSecret: SECRET, smtpUrl: undefined };
  const transport = createTransportFromEnv(env, dataDir, clock);
  const ctx = { dataDir, config, env, clock, logger: silentLogger(), transport };
  await recordEvaluation(
    { dataDir, now: clock.now(), channels: alertChannels(config, env) },
    { findings: [finding()], cursor: new Date(), callsEvaluated: 40 },
  );
  return { ...ctx, receiver };
}

function verified(r: { headers: Record<string, string | string[] | undefined>; body: string }, nowS = Math.floor(Date.now() / 1000)) {
  return verifyWebhook({
    secret: SECRET,
    body: r.body,
    timestamp: r.headers['x-cdrpipe-timestamp'] as string,
    signature: r.headers['x-cdrpipe-signature'] as string,
    nowS,
  });
}

describe('alert delivery', () => {
  it('signs as the manual shows a receiver to check it (HMAC-SHA256 over "<timestamp>.<body>")', () => {
    expect(signWebhook('whsec-example-0123456789abcdef', 1764421316, '{"id":"b46a75327eda"}')).toBe(
      'sha256=b70760ea4d40a8234ad9d7494a04ee0c2d392484e5697969ade5daaec2d4440c',
    );
  });

  it('delivers a webhook once through a failure and a timeout, with one idempotency key and a valid signature on every try', async () => {
    const s = await setup((n) => (n === 1 ? 'fail' : n === 2 ? 'hang' : 'ok'));
    const first = await deliverAlerts(s);
    expect(first).toMatchObject({ sent: 2, failed: 0 });
    expect(s.receiver.requests.length).toBe(3);
    const keys = new Set(s.receiver.requests.map((r) => r.headers['idempotency-key']));
    const [alert] = (await listAlerts(s.dataDir)).alerts;
    expect([...keys]).toEqual([`${alert!.id}.0`]);
    expect(s.receiver.requests.every((r) => verified(r))).toBe(true);
    // Tampered bodies, other secrets and old timestamps do not verify.
    const r0 = s.receiver.requests[2]!;
    expect(verified({ ...r0, body: r0.body.replace('120.50', '1.20') })).toBe(false);
    expect(verified(r0, Math.floor(Date.now() / 1000) + 3600)).toBe(false);
    expect(JSON.parse(r0.body)).toMatchObject({
      id: alert!.id,
      rule: 'spend-velocity',
      domain: 'acme.example',
      amount: '120.50',
      level: 0,
    });
    // The mail to the operator is in the outbox, once.
    const eml = (await readdir(join(s.dataDir, 'outbox'))).filter((f) => f.endsWith('.eml'));
    expect(eml.length).toBe(1);
    const mail = await simpleParser(await readFile(join(s.dataDir, 'outbox', eml[0]!)));
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.text : '').toBe('ops@test.example');
    expect(mail.subject).toBe('[cdrpipe] CRITICAL acme.example: spend-velocity');
    expect(mail.text).toContain(`cdrpipe alerts ack ${alert!.id}`);
    // A re-run sends nothing more.
    expect(await deliverAlerts(s)).toMatchObject({ sent: 0, failed: 0 });
    expect(s.receiver.requests.length).toBe(3);
    expect(s.receiver.acted.size).toBe(1);
  });

  it('keeps a webhook that is still down for the next run, and then delivers it', async () => {
    let down = true;
    const s = await setup(() => (down ? 'fail' : 'ok'));
    expect(await deliverAlerts(s)).toMatchObject({ sent: 1, failed: 1 });
    expect(s.receiver.requests.length).toBe(4);
    down = false;
    expect(await deliverAlerts(s)).toMatchObject({ sent: 1, failed: 0 });
    expect(s.receiver.acted.size).toBe(1);
    expect(new Set(s.receiver.requests.map((r) => r.headers['idempotency-key'])).size).toBe(1);
  });

  it('after a crash between handing over and recording: resends the webhook with the same key, never the mail', async () => {
    const s = await setup();
    const [alert] = (await listAlerts(s.dataDir)).alerts;
    // What a run killed mid-delivery leaves: both rows claimed (pending), the webhook already received.
    const now = s.clock.now();
    for (const channel of ['email:ops@test.example', 'webhook']) {
      expect(await claimDelivery(s.dataDir, { alertId: alert!.id, level: 0, channel }, { resendPending: true, now })).toBe('send');
    }
    await fetch(s.receiver.url, { method: 'POST', headers: { 'idempotency-key': `${alert!.id}.0` }, body: '{}' });
    const rerun = await deliverAlerts(s);
    expect(rerun).toMatchObject({ sent: 1, maybeSent: 1 });
    expect(rerun.outcomes.find((o) => o.channel === 'webhook')?.outcome).toBe('sent');
    expect(s.receiver.requests.map((r) => r.headers['idempotency-key'])).toEqual([`${alert!.id}.0`, `${alert!.id}.0`]);
    expect(s.receiver.acted.size).toBe(1);
    expect((await readdir(join(s.dataDir, 'outbox')).catch(() => [])).length).toBe(0);
  });
  it('a delivery run killed (SIGKILL) mid-webhook: the next run resends it under the same key, the mail stays sent once', async () => {
    const s = await setup((n) => (n === 1 ? 'act-then-hang' : 'ok'));
    const [alert] = (await listAlerts(s.dataDir)).alerts;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'deliver-child.ts'), s.dataDir, s.receiver.url, SECRET],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const deadline = Date.now() + 30_000;
    while (s.receiver.requests.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGKILL');
    expect(await exited, stderr).toBe('SIGKILL');
    expect(s.receiver.requests).toHaveLength(1);
    const mailed = await readdir(join(s.dataDir, 'outbox'));
    expect(mailed).toHaveLength(1);

    const rerun = await deliverAlerts(s);
    expect(rerun.outcomes.find((o) => o.channel === 'webhook')?.outcome).toBe('sent');
    expect(rerun.outcomes.filter((o) => o.channel.startsWith('email:')).map((o) => o.outcome)).not.toContain('sent');
    expect(s.receiver.requests.map((r) => r.headers['idempotency-key'])).toEqual([`${alert!.id}.0`, `${alert!.id}.0`]);
    expect(s.receiver.acted.size).toBe(1);
    expect(s.receiver.requests.every((r) => verified(r))).toBe(true);
    expect(await readdir(join(s.dataDir, 'outbox'))).toEqual(mailed);
    // A third run has nothing left to do.
    expect(await deliverAlerts(s)).toMatchObject({ sent: 0, failed: 0 });
  }, 60_000);
});
