/** A tiny loopback web server that shows one month's rendered reports in a browser, for review. */
import { createServer, type Server } from 'node:http';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative, resolve, sep } from 'node:path';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/plain; charset=utf-8',
};

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function listFiles(root: string, dir = root): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(root, p)));
    else if (TYPES[extname(entry.name)]) out.push(relative(root, p));
  }
  return out.sort();
}

export interface PreviewServer {
  url: string;
  close(): Promise<void>;
}

/** Serves `dir` (data/reports/YYYY-MM) on 127.0.0.1; only files inside it, read-only. */
export async function startPreviewServer(dir: string, port = 0): Promise<PreviewServer> {
  const root = resolve(dir);
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
      if (path === '/') {
        const files = await listFiles(root);
        const links = files.map((f) => `<li><a href="/${f.split(sep).map(encodeURIComponent).join('/')}">${esc(f)}</a></li>`).join('');
        res.writeHead(200, { 'content-type': TYPES['.html']! });
        res.end(`<!DOCTYPE html><meta charset="utf-8"><title>cdrpipe reports</title><h1>${esc(root)}</h1><ul>${links}</ul>`);
        return;
      }
      const file = resolve(root, '.' + path);
      if (!file.startsWith(root + sep) || !TYPES[extname(file)] || !(await stat(file).catch(() => undefined))?.isFile()) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[extname(file)]!, 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:" });
      res.end(await readFile(file));
    })().catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => ok());
  });
  const addr = server.address();
  const actual = typeof addr === 'object' && addr ? addr.port : port;
  return { url: `http://127.0.0.1:${actual}/`, close: () => new Promise((ok) => server.close(() => ok())) };
}
