import { describe, expect, it, vi } from 'vitest';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { readDebugFlag, readEnv, readProcessSettings, readSimulatorOAuth } from '../../pipeline/config/env.ts';
import { main } from '../../pipeline/cli/main.ts';
import { ConfigError } from '../../pipeline/util/errors.ts';
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
  it('reads the process settings: log level and config file, validated', () => {
    expect(readProcessSettings({})).toEqual({ logLevel: undefined, configPath: undefined });
    expect(readProcessSettings({ CDRPIPE_LOG_LEVEL: 'debug', CDRPIPE_CONFIG: '/etc/cdrpipe/jobs.config.ts' })).toEqual({
      logLevel: 'debug',
      configPath: '/etc/cdrpipe/jobs.config.ts',
    });
    expect(readProcessSettings({ CDRPIPE_LOG_LEVEL: ' ', CDRPIPE_CONFIG: '' })).toEqual({ logLevel: undefined, configPath: undefined });
    let err: unknown;
    try {
      readProcessSettings({ CDRPIPE_LOG_LEVEL: 'verbose' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe('CDRPIPE_LOG_LEVEL');
    expect((err as Error).message).toMatch(/CDRPIPE_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/);
  });
  it('reads CDRPIPE_DEBUG as on unless unset, empty or 0/false/no/off', () => {
    expect(readDebugFlag({})).toBe(false);
    for (const off of ['', '0', 'false', 'NO', 'off']) expect(readDebugFlag({ CDRPIPE_DEBUG: off })).toBe(false);
    for (const on of ['1', 'true', 'yes', 'stack']) expect(readDebugFlag({ CDRPIPE_DEBUG: on })).toBe(true);
  });
  it('gives the simulator OAuth credentials only when all four are set', () => {
    const all = { NS_CLIENT_ID: 'c', NS_CLIENT_SECRET: 's', NS_USERNAME: 'u', NS_PASSWORD: 'p' };
    expect(readSimulatorOAuth(all)).toEqual({ clientId: 'c', clientSecret: 's', username: 'u', password: 'p' });
    expect(readSimulatorOAuth({ ...all, NS_PASSWORD: '' })).toBeUndefined();
  });
  it('a bad CDRPIPE_LOG_LEVEL is bad config: the CLI exits 2 naming it', async () => {
    const saved = { ...process.env };
    let err = '';
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((err += String(chunk)), true));
    try {
      process.env.CDRPIPE_LOG_LEVEL = 'verbose';
      process.exitCode = undefined;
      const code = await main(['node', 'cdrpipe', 'status']);
      expect(err).toMatch(/CDRPIPE_LOG_LEVEL/);
      expect(code).toBe(2);
    } finally {
      e.mockRestore();
      process.env = saved;
      process.exitCode = undefined;
    }
  });
  it('is read in one module: nothing else in pipeline/ reads process.env', async () => {
    const root = join(import.meta.dirname, '../../pipeline');
    const readers: string[] = [];
    for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
      const file = join(entry.parentPath, entry.name);
      if (relative(root, file) === join('config', 'env.ts')) continue;
      if (/\bprocess\.env\b/.test(await readFile(file, 'utf8'))) readers.push(relative(root, file));
    }
    expect(readers).toEqual([]);
  });
});

describe('jobs.config.ts', () => {
  it('names the bad field', () => {
    const bad = structuredClone(config) as unknown as { plans: { standard: { inbound: { perMinute: unknown } } } };
    bad.plans.standard.inbound.perMinute = 0.009;
    expect(() => parseConfig(bad)).toThrow(/plans\.standard\.inbound\.perMinute/);
  });
});
