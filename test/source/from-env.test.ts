import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnv } from '../../pipeline/config/env.ts';
import { startSimulator, type RunningSimulator } from '../../pipeline/simulator/index.ts';
import { createSourceFromEnv } from '../../pipeline/source/from-env.ts';
import { NetSapiensClient } from '../../pipeline/source/netsapiens-client.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { UsageError } from '../../pipeline/util/errors.ts';
import { SIM_NOW } from './helpers.ts';

describe('createSourceFromEnv', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({
      seed: 41,
      domains: 2,
      clock: new FixedClock(SIM_NOW),
      apiKeys: ['nsr_env_key'],
      oauth: { clientId: 'c', clientSecret: 's3cret', username: 'u@r', password: 'p4ss' },
    });
  });
  afterAll(() => sim.close());

  it('without NS_API_URL: a UsageError that says what to set, or to run the demo', () => {
    let err: unknown;
    try {
      createSourceFromEnv(readEnv({}));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/NS_API_URL/);
    expect((err as Error).message).toMatch(/cdrpipe demo/);
  });

  it('without credentials: a UsageError naming the variables', () => {
    expect(() => createSourceFromEnv({ apiUrl: sim.url, auth: undefined, dataDir: '.', smtpUrl: undefined, mailFrom: 'x@y' })).toThrow(
      /NS_API_KEY/,
    );
  });

  it('a bad base URL is a UsageError too', () => {
    expect(() => NetSapiensClient.create({ baseUrl: 'not a url', auth: { kind: 'api-key', apiKey: 'k' } })).toThrow(UsageError);
  });

  it('works with NS_API_KEY', async () => {
    const source = createSourceFromEnv(readEnv({ NS_API_URL: sim.url + '/', NS_API_KEY: 'nsr_env_key' }), {
      concurrency: 2,
      requestsPerSecond: 1000,
    });
    expect(await source.countDomains()).toBe(2);
  });

  it('works with the four OAuth variables', async () => {
    const source = createSourceFromEnv(
      readEnv({ NS_API_URL: sim.url, NS_CLIENT_ID: 'c', NS_CLIENT_SECRET: 's3cret', NS_USERNAME: 'u@r', NS_PASSWORD: 'p4ss' }),
    );
    expect((await source.listDomains()).length).toBe(2);
  });

  it('a source-wide abort signal stops calls', async () => {
    const controller = new AbortController();
    const source = createSourceFromEnv(readEnv({ NS_API_URL: sim.url, NS_API_KEY: 'nsr_env_key' }), { signal: controller.signal });
    controller.abort(new Error('shutting down'));
    await expect(source.countDomains()).rejects.toThrow('shutting down');
  });
});
