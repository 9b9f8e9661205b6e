import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnCli } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';
import { testConfig } from '../support/test-config.ts';
import { formatStatus, gatherStatus } from '../../pipeline/schedule/status-report.ts';
import { systemClock } from '../../pipeline/util/clock.ts';
import { withState } from '../../pipeline/state/state-db.ts';
import { testClient } from './helpers.ts';

/** A real HTTP server on 127.0.0.1 whose answers quote whatever credentials a test puts in them. */
async function echoServer(
  answer: (req: IncomingMessage, body: string) => { status: number; headers?: Record<string, string>; body: string },
) {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (b: Buffer) => (body += b.toString()));
    req.on('end', () => {
      const a = answer(req, body);
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(a.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/ns-api/v2`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** PHP's json_encode spelling: `/` as `\/`, non-ASCII as `\uXXXX`. */
function phpJson(s: string): string {
  return JSON.stringify(s)
    .slice(1, -1)
    .replace(/\//g, '\\/')
    .replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
const form = (s: string) => new URLSearchParams({ v: s }).toString().slice(2);
const html = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/\//g, '&#x2F;').replace(/=/g, '&#x3D;');
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Each marker is a piece of a secret that survives every text encoding unchanged: none may show. */
function expectNoLeak(where: string, text: string, markers: string[]): void {
  for (const m of markers) expect(text, `${where} shows ${m}`).not.toContain(m);
}

async function storedErrors(dataDir: string): Promise<string> {
  // Straight from the table, not through the run-log reader (which scrubs on the way out too).
  const rows = await withState(dataDir, (db) =>
    db.all<{ error: string | null; summary: string | null }>(`SELECT error, summary::VARCHAR AS summary FROM runs`),
  );
  expect(rows.length).toBeGreaterThan(0);
  return rows.map((r) => `${r.error ?? ''}\n${r.summary ?? ''}`).join('\n');
}

/** `cdrpipe ingest` against `url`, then `cdrpipe status`: both outputs and the stored run log. */
async function ingestThenStatus(url: string, env: Record<string, string>) {
  const tmp = await tempDir('cdrpipe-secrets-');
  const dataDir = `${tmp}/data`;
  const all = { CDRPIPE_DATA_DIR: dataDir, NS_API_URL: url, ...env };
  const ingest = spawnCli(['ingest', '--from', '2026-10-01', '--to', '2026-10-02'], { env: all });
  const ingestCode = await ingest.exited;
  // What `cdrpipe status` prints, as text and as --json.
  const status = await gatherStatus({ dataDir, config: testConfig(), clock: systemClock });
  const statusOut = `${formatStatus(status)}\n${JSON.stringify(status)}`;
  return { ingestCode, ingestOut: ingest.output(), stored: await storedErrors(dataDir), statusOut };
}

describe('secrets in every encoding stay out of stderr, the run log and status', () => {
  it('scrubs an API key the server echoes raw, JSON-escaped, URL- and form-encoded, HTML-escaped and in base64', async () => {
    const key = 'nsr_KEYPARTA/KEYPARTB+KEYPARTC== KEYPARTD';
    const echoed = [
      key,
      phpJson(key),
      encodeURIComponent(key),
      encodeURIComponent(key).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()),
      form(key),
      html(key),
      b64(key),
    ];
    const sim = await echoServer(() => ({
      status: 400,
      // Hand-written so that the escapes reach the client exactly as a PHP server sends them.
      body: `{"code":400,"message":"key not accepted: ${echoed.map((e) => e.replace(/"/g, '\\"')).join(' | ')}"}`,
    }));
    cleanups.push(sim.close);
    const r = await ingestThenStatus(sim.url, { NS_API_KEY: key });
    expect(r.ingestCode, r.ingestOut).toBe(1);
    expect(r.ingestOut).toMatch(/HTTP 400: key not accepted: \*\*\*/);
    for (const [where, text] of [
      ['ingest output', r.ingestOut],
      ['runs.error', r.stored],
      ['status output', r.statusOut],
    ] as const) {
      expectNoLeak(where, text, ['KEYPARTA', 'KEYPARTB', 'KEYPARTC', 'KEYPARTD', b64(key).slice(0, 16)]);
    }
    expect(r.statusOut).toMatch(/key not accepted: \*\*\*/);
  }, 180_000);

  it('scrubs OAuth secrets, tokens, Basic credentials and the SMTP password, a quote in the password included', async () => {
    const clientId = 'cdrpipe-client';
    const clientSecret = 'cs"SECRETPARTA/SECRETPARTB x';
    const password = 'pw"PASSPARTA&PASSPARTB';
    const accessToken = 'at.TOKENPARTA/TOKENPARTB=';
    const refreshToken = 'rt+REFRESHPARTA';
    const smtpPassword = 'sm"MAILPARTA/MAILPARTB';
    const sim = await echoServer((req) => {
      if (req.url?.endsWith('/tokens')) {
        return {
          status: 200,
          body: JSON.stringify({ access_token: accessToken, refresh_token: refreshToken, expires_in: 3600, token_type: 'Bearer' }),
        };
      }
      const said = [
        `token ${phpJson(accessToken)}`,
        `refresh ${form(refreshToken)}`,
        `password ${phpJson(password)}`,
        `secret ${encodeURIComponent(clientSecret)}`,
        `basic ${b64(`${clientId}:${clientSecret}`)}`,
        `mail ${html(smtpPassword)}`,
        `plain ${b64(`\u0000mailer\u0000${smtpPassword}`)}`,
      ].join(', ');
      return { status: 400, body: `{"code":400,"message":"${said}"}` };
    });
    cleanups.push(sim.close);
    const r = await ingestThenStatus(sim.url, {
      NS_API_KEY: '',
      NS_CLIENT_ID: clientId,
      NS_CLIENT_SECRET: clientSecret,
      NS_USERNAME: 'ops',
      NS_PASSWORD: password,
      SMTP_URL: `smtp://mailer:${encodeURIComponent(smtpPassword)}@127.0.0.1:2525`,
    });
    expect(r.ingestCode, r.ingestOut).toBe(1);
    expect(r.ingestOut).toMatch(
      /HTTP 400: token \*\*\*, refresh \*\*\*, password \*\*\*, secret \*\*\*, basic \*\*\*, mail \*\*\*, plain \*\*\*/,
    );
    const markers = [
      'SECRETPARTA',
      'SECRETPARTB',
      'PASSPARTA',
      'PASSPARTB',
      'TOKENPARTA',
      'TOKENPARTB',
      'REFRESHPARTA',
      'MAILPARTA',
      'MAILPARTB',
    ];
    const basic = b64(`${clientId}:${clientSecret}`).slice(0, 16);
    const plain = b64(`\u0000mailer\u0000${smtpPassword}`).slice(0, 16);
    for (const [where, text] of [
      ['ingest output', r.ingestOut],
      ['runs.error', r.stored],
      ['status output', r.statusOut],
    ] as const) {
      expectNoLeak(where, text, [...markers, basic, plain]);
    }
  }, 180_000);

  it('does not show the key when a redirect points at a URL that contains it', async () => {
    const key = 'nsr_REDIRPARTA/REDIRPARTB';
    const sim = await echoServer(() => ({
      status: 302,
      headers: { location: `https://pbx.example.com/ns-api/v2/${encodeURIComponent(key)}/domains?key=${encodeURIComponent(key)}` },
      body: '',
    }));
    cleanups.push(sim.close);
    const err = await testClient(sim.url, { auth: { kind: 'api-key', apiKey: key } })
      .listDomains()
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(err?.message).toMatch(/The server redirects to https:\/\/pbx\.example\.com\/ns-api\/v2\/\*\*\*\/domains/);
    expectNoLeak('redirect hint', err?.message ?? '', ['REDIRPARTA', 'REDIRPARTB']);
  });

  it('does not show the tail of a password with a quote in it when the token endpoint echoes the grant', async () => {
    const password = 'pw"TAILPARTA" TAILPARTB';
    const sim = await echoServer((_req, body) => ({
      status: 401,
      body: JSON.stringify({ error: 'invalid_grant', error_description: `refused ${body}` }),
    }));
    cleanups.push(sim.close);
    const err = await testClient(sim.url, {
      auth: { kind: 'oauth', clientId: 'cid1', clientSecret: 'TAILSECRET', username: 'ops', password },
    })
      .listDomains()
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(err?.message).toMatch(/HTTP 401: refused \{/);
    expectNoLeak('token error', err?.message ?? '', ['TAILPARTA', 'TAILPARTB', 'TAILSECRET']);
  });
});
