import { describe, expect, it } from 'vitest';
import { readEnv } from '../../pipeline/config/env.ts';
import { parseConfig } from '../../pipeline/config/load-config.ts';
import config from '../../jobs.config.ts';

describe('environment', () => {
  it('defaults the data dir and sender', () => {
    const env = readEnv({});
    expect(env.dataDir).toBe('./data');
    expect(env.mailFrom).toBe('reports@localhost');
    expect(env.auth).toBeUndefined();
  });
  it('prefers an API key, else requires all four OAuth variables, naming the missing one', () => {
    expect(readEnv({ NS_API_URL: 'http://127.0.0.1:1/ns-api/v2', NS_API_KEY: 'k' }).auth).toEqual({ kind: 'api-key', apiKey: 'k' });
    expect(() => readEnv({ NS_CLIENT_ID: 'a', NS_USERNAME: 'u' })).toThrow(/missing NS_CLIENT_SECRET, NS_PASSWORD/);
  });
  it('rejects a bad URL without echoing secrets', () => {
    let message = '';
    try {
      readEnv({ NS_API_URL: 'ftp://x', NS_PASSWORD: 'hunter2' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/NS_API_URL/);
    expect(message).not.toMatch(/hunter2/);
  });
});

describe('jobs.config.ts', () => {
  it('names the bad field', () => {
    const bad = structuredClone(config) as unknown as { plans: { standard: { inbound: { perMinute: unknown } } } };
    bad.plans.standard.inbound.perMinute = 0.009;
    expect(() => parseConfig(bad)).toThrow(/plans\.standard\.inbound\.perMinute/);
  });
});
