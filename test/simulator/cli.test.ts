import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { spawnCli } from '../support/cli.ts';

describe('cdrpipe simulate', () => {
  it('prints the base URL, serves real-shaped domains, and stops cleanly on SIGTERM', async () => {
    const { child, exited } = spawnCli(['simulate', '--port', '0', '--domains', '3', '--seed', '5'], {
      env: { CDRPIPE_LOG_LEVEL: 'warn' },
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
    expect(await exited).toBe(0);
  });
});
