import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../pipeline/simulator/index.ts';
import type { FixedClock } from '../../pipeline/util/clock.ts';
import { get, start } from './helpers.ts';

const oauth = { clientId: 'cid', clientSecret: 'csecret', username: 'api@reseller', password: 'pw', tokenTtlSeconds: 600 };

async function token(
  sim: RunningSimulator,
  body: Record<string, string>,
  form = false,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(sim.url + '/tokens', {
    method: 'POST',
    headers: { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json' },
    body: form ? new URLSearchParams(body).toString() : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const password = { grant_type: 'password', client_id: 'cid', client_secret: 'csecret', username: 'api@reseller', password: 'pw' };

describe('API keys', () => {
  it('accepts any non-empty bearer when no key list is given', async () => {
    const { sim } = await start({ domains: 1 });
    try {
      expect((await get(sim, '/domains', 'whatever')).status).toBe(200);
      const none = await fetch(sim.url + '/domains');
      expect(none.status).toBe(401);
      expect(await none.json()).toMatchObject({ code: 401 });
    } finally {
      await sim.close();
    }
  });
  it('accepts only listed keys when a list is given', async () => {
    const { sim } = await start({ domains: 1, apiKeys: ['nsr_good'] });
    try {
      expect((await get(sim, '/domains', 'nsr_good')).status).toBe(200);
      const bad = await get(sim, '/domains', 'nsr_bad');
      expect(bad).toMatchObject({ status: 401, body: { code: 401 } });
      expect(bad.text).not.toContain('nsr_bad');
    } finally {
      await sim.close();
    }
  });
});

describe('OAuth', () => {
  let sim: RunningSimulator;
  let clock: FixedClock;
  beforeAll(async () => {
    ({ sim, clock } = await start({ domains: 1, apiKeys: [], oauth }));
  });
  afterAll(async () => {
    await sim.close();
  });

  it('grants a token for JSON and form-encoded password grants', async () => {
    for (const form of [false, true]) {
      const t = await token(sim, password, form);
      expect(t.status).toBe(200);
      expect(t.body).toMatchObject({
        token_type: 'Bearer',
        expires_in: 600,
        access_token: expect.any(String),
        refresh_token: expect.any(String),
        user: 'api',
        domain: 'reseller',
        scope: expect.any(String),
      });
      expect((await get(sim, '/domains', String(t.body.access_token))).status).toBe(200);
    }
  });
  it('refuses bad credentials and incomplete grants', async () => {
    expect(await token(sim, { ...password, password: 'nope' })).toMatchObject({ status: 401, body: { code: 401 } });
    expect(await token(sim, { grant_type: 'password', client_id: 'cid' })).toMatchObject({ status: 400, body: { code: 400 } });
    expect(await token(sim, { grant_type: 'client_credentials' })).toMatchObject({ status: 400 });
    expect((await get(sim, '/domains', 'not-a-key')).status).toBe(401);
  });
  it('expires tokens by the injected clock; the refresh grant issues a new one', async () => {
    const t = await token(sim, password);
    const access = String(t.body.access_token);
    expect((await get(sim, '/domains', access)).status).toBe(200);
    clock.advance(601_000);
    expect(await get(sim, '/domains', access)).toMatchObject({
      status: 401,
      body: { code: 401, message: expect.stringMatching(/expired/i) },
    });
    const r = await token(sim, {
      grant_type: 'refresh_token',
      client_id: 'cid',
      client_secret: 'csecret',
      refresh_token: String(t.body.refresh_token),
    });
    expect(r.status).toBe(200);
    expect(r.body.access_token).not.toBe(access);
    expect((await get(sim, '/domains', String(r.body.access_token))).status).toBe(200);
    expect(
      await token(sim, { grant_type: 'refresh_token', client_id: 'cid', client_secret: 'csecret', refresh_token: 'rt-bogus' }),
    ).toMatchObject({ status: 401 });
  });
  it('token-expiry fault invalidates every issued token once, mid-run', async () => {
    const t = String((await token(sim, password)).body.access_token);
    const at = sim.stats().requests + 3;
    sim.setFaults({ tokenExpiry: { afterRequests: at } });
    expect((await get(sim, '/domains', t)).status).toBe(200);
    expect((await get(sim, '/domains', t)).status).toBe(200);
    expect((await get(sim, '/domains', t)).status).toBe(401);
    const fresh = String((await token(sim, password)).body.access_token);
    expect((await get(sim, '/domains', fresh)).status).toBe(200);
    expect((await get(sim, '/domains', fresh)).status).toBe(200);
    expect(sim.stats().faultsInjected['token-expiry']).toBe(1);
    sim.setFaults({});
  });
});
