import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dir.ts';
import { request } from 'node:http';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isAllowedHost, startPreviewServer } from '../../pipeline/report/preview-server.ts';

/** A raw GET with whatever Host header we like (fetch would not let us forge it). */
function get(url: string, path: string, host?: string): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((ok, fail) => {
    const req = request(
      { host: u.hostname, port: u.port, path, method: 'GET', headers: host === undefined ? {} : { host }, setHost: host === undefined },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => ok({ status: res.statusCode ?? 0, body }));
      },
    );
    req.once('error', fail);
    req.end();
  });
}

describe('report preview server', () => {
  it('answers only to its own loopback Host and serves only regular files inside the folder, never through a symlink', async () => {
    const base = await tempDir('cdrpipe-preview-');
    const month = join(base, 'reports', '2026-10');
    const outside = join(base, 'outside');
    await mkdir(join(month, 'acme.example'), { recursive: true });
    await mkdir(outside, { recursive: true });
    await writeFile(join(month, 'acme.example', 'report.html'), '<p>Acme report</p>');
    await writeFile(join(outside, 'secret.txt'), 'SECRET-STATE');
    await writeFile(join(outside, 'report.html'), '<p>SECRET-HTML</p>');
    await symlink(join(outside, 'secret.txt'), join(month, 'acme.example', 'leak.txt'));
    await symlink(outside, join(month, 'linked-dir'));
    await symlink(join(month, 'acme.example', 'report.html'), join(month, 'alias.html'));

    const server = await startPreviewServer(month);
    try {
      const port = new URL(server.url).port;
      const ok = await get(server.url, '/acme.example/report.html', `127.0.0.1:${port}`);
      expect(ok.status).toBe(200);
      expect(ok.body).toContain('Acme report');
      expect((await get(server.url, '/acme.example/report.html', `localhost:${port}`)).status).toBe(200);

      // DNS rebinding: the browser sends the attacker's name (or a wrong port) as Host.
      for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1:${Number(port) + 1}`, '127.0.0.1', `127.0.0.2:${port}`, '']) {
        const r = await get(server.url, '/acme.example/report.html', host);
        expect(r.status, `Host: ${host}`).toBe(403);
        expect(r.body).not.toContain('Acme');
      }
      expect((await get(server.url, '/', 'evil.example')).status).toBe(403);

      // Symlinks: to a file outside, to a folder outside, even to a file inside.
      for (const path of [
        '/acme.example/leak.txt',
        '/linked-dir/secret.txt',
        '/linked-dir/report.html',
        '/alias.html',
        '/%2E%2E/outside/secret.txt',
        '/%E0%A4%A',
      ]) {
        const r = await get(server.url, path, `127.0.0.1:${port}`);
        expect(r.status, path).toBeGreaterThanOrEqual(400);
        expect(r.body, path).not.toMatch(/SECRET/);
      }
      const index = await get(server.url, '/', `127.0.0.1:${port}`);
      expect(index.status).toBe(200);
      expect(index.body).toContain('acme.example/report.html');
      expect(index.body).not.toMatch(/leak\.txt|linked-dir|alias\.html/);
    } finally {
      await server.close();
    }
    expect(isAllowedHost('[::1]:8080', 8080)).toBe(true);
    expect(isAllowedHost('LOCALHOST:8080', 8080)).toBe(true);
    expect(isAllowedHost(undefined, 8080)).toBe(false);
  });
});
