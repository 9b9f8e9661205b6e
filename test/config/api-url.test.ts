import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { readEnv } from '../../pipeline/config/env.ts';
import { isLoopbackHost } from '../../pipeline/config/api-base.ts';
import { createSourceFromEnv } from '../../pipeline/source/from-env.ts';
import { NetSapiensClient } from '../../pipeline/source/netsapiens-client.ts';
import { ConfigError, exitCodeOf, UsageError } from '../../pipeline/util/errors.ts';
import { tempDir } from '../support/temp-dir.ts';

function configErrorOf(env: Record<string, string>): ConfigError {
  try {
    readEnv(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('readEnv accepted the environment');
}

describe('NS_API_URL may not expose the credentials', () => {
  it('refuses plain http to another host (exit 2, naming NS_API_URL and the opt-in)', () => {
    const err = configErrorOf({ NS_API_URL: 'http://pbx.example.com/ns-api/v2', NS_API_KEY: 'nsr_cleartext_key' });
    expect(err.field).toBe('NS_API_URL');
    expect(exitCodeOf(err)).toBe(2);
    expect(err.message).toMatch(/NS_API_URL uses http:\/\/ to pbx\.example\.com.*NS_API_ALLOW_INSECURE=1/);
    expect(err.message).not.toContain('nsr_cleartext_key');
    expect(() => readEnv({ NS_API_URL: 'http://10.0.0.5:8080/ns-api/v2', NS_API_KEY: 'k' })).toThrow(/not this machine/);
  });

  it('allows plain http to another host only with NS_API_ALLOW_INSECURE=1, and a bad value names the variable', () => {
    const env = readEnv({ NS_API_URL: 'http://pbx.example.com/ns-api/v2', NS_API_KEY: 'k', NS_API_ALLOW_INSECURE: '1' });
    expect(env.apiUrl).toBe('http://pbx.example.com/ns-api/v2');
    expect(env.allowInsecureHttp).toBe(true);
    expect(() => readEnv({ NS_API_URL: 'http://pbx.example.com/ns-api/v2', NS_API_KEY: 'k', NS_API_ALLOW_INSECURE: '0' })).toThrow(
      ConfigError,
    );
    expect(configErrorOf({ NS_API_ALLOW_INSECURE: 'please' }).field).toBe('NS_API_ALLOW_INSECURE');
  });

  it('allows https anywhere and http to this machine', () => {
    expect(readEnv({ NS_API_URL: 'https://pbx.example.com/ns-api/v2', NS_API_KEY: 'k' }).allowInsecureHttp).toBe(false);
    for (const url of ['http://127.0.0.1:8080/ns-api/v2', 'http://localhost:1/x', 'http://[::1]:9/x', 'http://127.9.9.9/x']) {
      expect(readEnv({ NS_API_URL: url, NS_API_KEY: 'k' }).apiUrl).toBe(url);
    }
    expect(['localhost', 'api.localhost', '127.0.0.1', '[::1]', '[::ffff:7f00:1]'].every(isLoopbackHost)).toBe(true);
    expect(['pbx.example.com', '10.0.0.1', '128.0.0.1', '[::2]', 'localhost.example.com', '127.0.0.1.nip.io'].some(isLoopbackHost)).toBe(
      false,
    );
  });

  it('refuses user:password inside the URL without echoing the password', () => {
    for (const url of [
      'https://ops:Hunter2Pass@pbx.example.com/ns-api/v2',
      'http://ops:Hunter2Pass@127.0.0.1:1/ns-api/v2',
      'https://Hunter2Pass@pbx.example.com/',
    ]) {
      const err = configErrorOf({ NS_API_URL: url, NS_API_KEY: 'k' });
      expect(err.field).toBe('NS_API_URL');
      expect(err.message).toMatch(/NS_API_URL contains credentials/);
      expect(err.message).not.toContain('Hunter2Pass');
    }
  });

  it('the source and the client refuse such URLs too when built without readEnv', () => {
    const env = { auth: { kind: 'api-key', apiKey: 'k' } as const, dataDir: '.', smtpUrl: undefined, mailFrom: 'x@y' };
    expect(() => createSourceFromEnv({ ...env, apiUrl: 'http://pbx.example.com/ns-api/v2' })).toThrow(UsageError);
    expect(createSourceFromEnv({ ...env, apiUrl: 'http://pbx.example.com/ns-api/v2', allowInsecureHttp: true })).toBeInstanceOf(
      NetSapiensClient,
    );
    let message = '';
    try {
      NetSapiensClient.create({ baseUrl: 'https://ops:Hunter2Pass@pbx.example.com/ns-api/v2', auth: { kind: 'api-key', apiKey: 'k' } });
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      message = (e as Error).message;
    }
    expect(message).toMatch(/contains credentials/);
    expect(message).not.toContain('Hunter2Pass');
  });
});

describe('cdrpipe ingest with an unsafe NS_API_URL', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });

  it('exits 2 before sending anything, and does not print the password', async () => {
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const tmp = await tempDir('cdrpipe-api-url-');
    const { main } = await import('../../pipeline/cli/main.ts');
    const write = process.stderr.write;
    let stderr = '';
    process.stderr.write = ((s: string) => ((stderr += s), true)) as typeof process.stderr.write;
    try {
      Object.assign(process.env, {
        CDRPIPE_DATA_DIR: `${tmp}/data`,
        NS_API_KEY: 'nsr_cli_key_1234',
        NS_API_URL: `http://ops:Hunter2Pass@127.0.0.1:${port}/ns-api/v2`,
      });
      expect(await main(['node', 'cdrpipe', 'ingest', '--from', '2026-10-01', '--to', '2026-10-02'])).toBe(2);
      process.env.NS_API_URL = 'http://pbx.example.com/ns-api/v2';
      expect(await main(['node', 'cdrpipe', 'ingest', '--from', '2026-10-01', '--to', '2026-10-02'])).toBe(2);
    } finally {
      process.stderr.write = write;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(requests).toBe(0);
    expect(stderr).toMatch(/NS_API_URL contains credentials/);
    expect(stderr).toMatch(/NS_API_URL uses http:\/\/ to pbx\.example\.com/);
    expect(stderr).not.toMatch(/Hunter2Pass|nsr_cli_key_1234/);
  });
});
