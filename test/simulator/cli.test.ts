import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';

describe('cdrpipe simulate', () => {
  it('prints the base URL, serves real-shaped domains, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'pipeline/cli/main.ts', 'simulate', '--port', '0', '--domains', '3', '--seed', '5'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CDRPIPE_LOG_LEVEL: 'warn' },
    });
    try {
      const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
      const url = chunk.toString().trim();
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/ns-api\/v2$/);
      const res = await fetch(url + '/domains', { headers: { authorization: 'Bearer x' } });
      expect(res.status).toBe(200);
      const domains = (await res.json()) as Record<string, unknown>[];
      expect(domains).toHaveLength(3);
      expect(domains[0]).toHaveProperty('time-zone');
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });
});
