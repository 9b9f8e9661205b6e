import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../pipeline/simulator/index.ts';
import { NetSapiensHttpError } from '../../pipeline/source/source-errors.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { exitCodeOf } from '../../pipeline/util/errors.ts';
import { busiest, collect, pageKeys, SIM_NOW, testClient, truthKeys, WEEK } from './helpers.ts';

const OAUTH = {
  clientId: 'cdrpipe',
  clientSecret: 'cs_super_secret_42',
  username: 'api@reseller.example',
  password: 'pw_hunter2_xyz',
  tokenTtlSeconds: 600,
};

function errorOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

function expectNoSecrets(err: unknown, secrets: string[]): void {
  const e = err as Error;
  const text = `${e.message}\n${e.stack ?? ''}\n${JSON.stringify(e)}`;
  for (const s of secrets) expect(text).not.toContain(s);
}

describe('static API key', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 11, domains: 3, clock: new FixedClock(SIM_NOW), apiKeys: ['nsr_test_key_0123456789'] });
  });
  afterAll(() => sim.close());

  it('sends the key as a bearer token and reads domains and CDRs', async () => {
    const client = testClient(sim.url);
    expect(await client.countDomains()).toBe(3);
    const domains = await client.listDomains();
    expect(domains.map((d) => d.domain)).toEqual(sim.domains().map((d) => d.domain));
    expect(domains[0]!.timeZone).toBe(sim.domains()[0]!['time-zone']);
    const d = domains[0]!.domain;
    expect(pageKeys(await collect(client.listCdrs(d, WEEK)))).toEqual(truthKeys(sim.groundTruth(d, WEEK)));
    expect(client.stats().retries).toBe(0);
  });

  it('fails a wrong key at once with a typed 401 that never shows the key', async () => {
    const client = testClient(sim.url, { auth: { kind: 'api-key', apiKey: 'nsr_wrong_key_SECRET_987' } });
    const err = await errorOf(client.countDomains());
    expect(err).toBeInstanceOf(NetSapiensHttpError);
    expect(err).toMatchObject({ status: 401, method: 'GET', path: '/domains/count', attempts: 1 });
    expect((err as Error).message).toMatch(/API key was refused: check NS_API_KEY/);
    expect(exitCodeOf(err)).toBe(2);
    expectNoSecrets(err, ['nsr_wrong_key_SECRET_987']);
    // A static key cannot be refreshed: exactly one request.
    expect(client.stats().requests).toBe(1);
  });

  it('types a 403 with the path, query and server message, and never the token', async () => {
    const client = testClient(sim.url);
    const err = await errorOf(client.countCdrs('nosuch.example', WEEK));
    expect(err).toBeInstanceOf(NetSapiensHttpError);
    const e = err as NetSapiensHttpError;
    expect(e.status).toBe(403);
    expect(e.path).toBe('/domains/nosuch.example/cdrs/count?datetime-start=2026-11-02T00%3A00%3A00Z&datetime-end=2026-11-05T00%3A00%3A00Z');
    expect(e.serverMessage).toBe('Domain not found or access denied');
    expect(e.serverCode).toBe(403);
    expect(e.message).toContain('HTTP 403: Domain not found or access denied');
    expectNoSecrets(err, ['nsr_test_key_0123456789']);
  });
});

describe('OAuth2 password grant', () => {
  let sim: RunningSimulator;
  let clock: FixedClock;
  beforeAll(async () => {
    clock = new FixedClock(SIM_NOW);
    sim = await startSimulator({ seed: 12, domains: 2, clock, apiKeys: [], oauth: OAUTH });
  });
  afterAll(() => sim.close());
  afterEach(() => {
    sim.setFaults({});
    clock.set(SIM_NOW);
  });
  const oauthClient = (c = clock) =>
    testClient(sim.url, {
      clock: c,
      auth: {
        kind: 'oauth',
        clientId: OAUTH.clientId,
        clientSecret: OAUTH.clientSecret,
        username: OAUTH.username,
        password: OAUTH.password,
      },
    });

  it('concurrent callers share one token request', async () => {
    const before = sim.stats().byEndpoint.tokens ?? 0;
    const client = oauthClient();
    const results = await Promise.all(Array.from({ length: 12 }, () => client.countDomains()));
    expect(results).toEqual(Array(12).fill(2));
    expect(client.tokenRequests()).toEqual({ password: 1, refresh: 0 });
    expect((sim.stats().byEndpoint.tokens ?? 0) - before).toBe(1);
  });

  it('reuses the cached token, then refreshes ~60 s before expiry with the refresh_token grant', async () => {
    const client = oauthClient();
    await client.countDomains();
    clock.advance(500_000); // 100 s of the 600 s left: still fresh
    await client.countDomains();
    expect(client.tokenRequests()).toEqual({ password: 1, refresh: 0 });
    clock.advance(41_000); // 59 s left: inside the 60 s margin
    await client.countDomains();
    expect(client.tokenRequests()).toEqual({ password: 1, refresh: 1 });
    expect(client.stats().retriesByReason['401']).toBeUndefined();
  });

  it('recovers from a token revoked mid-run with one refresh and one retry, losing no record', async () => {
    const client = oauthClient();
    const d = busiest(sim);
    await client.countDomains();
    sim.setFaults({ tokenExpiry: { afterRequests: sim.stats().requests + 2 } });
    const pages = await collect(client.listCdrs(d, WEEK, { pageSize: 5 }));
    expect(pages.length).toBeGreaterThan(1);
    expect(pageKeys(pages)).toEqual(truthKeys(sim.groundTruth(d, WEEK)));
    expect(client.stats().retriesByReason['401']).toBe(1);
    expect(client.tokenRequests()).toEqual({ password: 1, refresh: 1 });
  });

  it('many requests meeting the same revoked token share one refresh', async () => {
    const client = oauthClient();
    await client.countDomains();
    sim.setFaults({ tokenExpiry: { afterRequests: sim.stats().requests + 1 } });
    const results = await Promise.all(Array.from({ length: 8 }, () => client.countDomains()));
    expect(results).toEqual(Array(8).fill(2));
    expect(client.tokenRequests()).toEqual({ password: 1, refresh: 1 });
    expect(client.stats().retriesByReason['401']).toBe(8);
  });

  it('falls back to the password grant when the refresh token is refused (server restarted)', async () => {
    const client = oauthClient();
    await client.countDomains();
    // A PBX restart forgets every token: same port, same credentials, new token store.
    const port = sim.port;
    await sim.close();
    sim = await startSimulator({ port, seed: 12, domains: 2, clock, apiKeys: [], oauth: OAUTH });
    expect(await client.countDomains()).toBe(2);
    // 401 -> refresh_token grant (refused) -> password grant -> retry.
    expect(client.tokenRequests()).toEqual({ password: 2, refresh: 1 });
    expect(client.stats().retriesByReason['401']).toBe(1);
  });

  it('a refused password is a typed 401 on /tokens without any secret in it', async () => {
    const client = testClient(sim.url, {
      clock,
      auth: {
        kind: 'oauth',
        clientId: OAUTH.clientId,
        clientSecret: OAUTH.clientSecret,
        username: OAUTH.username,
        password: 'pw_WRONG_secret_1',
      },
    });
    const err = await errorOf(client.listDomains());
    expect(err).toBeInstanceOf(NetSapiensHttpError);
    expect(err).toMatchObject({ status: 401, method: 'POST', path: '/tokens', serverMessage: 'Invalid client or user credentials' });
    expect((err as Error).message).toMatch(/check NS_CLIENT_ID, NS_CLIENT_SECRET, NS_USERNAME and NS_PASSWORD/);
    expectNoSecrets(err, ['pw_WRONG_secret_1', OAUTH.clientSecret]);
  });

  it('a 4xx after authentication never carries the access token', async () => {
    const client = oauthClient();
    const err = await errorOf(client.fetchCdrPage('missing.example', WEEK, 0, 10));
    expect(err).toMatchObject({ status: 403 });
    const tokenAnswer = await fetch(`${sim.url}/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'password',
        client_id: OAUTH.clientId,
        client_secret: OAUTH.clientSecret,
        username: OAUTH.username,
        password: OAUTH.password,
      }),
    });
    const { access_token } = (await tokenAnswer.json()) as { access_token: string };
    // Tokens are JWTs with a shared header: check the signature part, unique per token.
    const signature = access_token.split('.')[2]!;
    expectNoSecrets(err, [signature, OAUTH.password, OAUTH.clientSecret]);
    expect((err as Error).message).not.toMatch(/eyJ/);
  });
});
