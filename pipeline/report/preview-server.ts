/**
 * A tiny loopback web server that shows one month's rendered reports in a browser, for review.
 *
 * It serves customer data, so it trusts nothing about a request: the Host header must name this
 * server on loopback (a page on another site that rebinds its DNS name to 127.0.0.1 sends its own
 * name, and gets 403), and only regular files that really lie inside the report folder are served
 * (no symlinks, whatever they point at).
 */
import { constants } from 'node:fs';
import { open, readdir, realpath } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, relative, resolve, sep } from 'node:path';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/plain; charset=utf-8',
};

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Regular files with a served extension; symlinks are neither listed nor followed. */
async function listFiles(root: string, dir = root): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(root, p)));
    else if (entry.isFile() && TYPES[extname(entry.name)]) out.push(relative(root, p));
  }
  return out.sort();
}

/** The Host values that name this server: loopback by address or name, with the bound port. */
export function allowedHosts(port: number): ReadonlySet<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
}

/** True when `host` (a Host header) names this loopback server; anything else is refused. */
export function isAllowedHost(host: string | undefined, port: number): boolean {
  return host !== undefined && allowedHosts(port).has(host.toLowerCase());
}

function send(res: ServerResponse, status: number, body: string | Buffer, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, ...SECURITY_HEADERS });
  res.end(body);
}

/**
 * The file under `root` that `urlPath` names, opened without following a symlink at the end, or
 * undefined when it is not a regular file whose real path lies inside `root` (`root` is a real path).
 */
async function openInside(root: string, urlPath: string) {
  const file = resolve(root, '.' + urlPath);
  if (!file.startsWith(root + sep) || !TYPES[extname(file)]) return undefined;
  const real = await realpath(file).catch(() => undefined);
  // A symlinked folder on the way resolves elsewhere; a symlinked file is refused by O_NOFOLLOW.
  if (real !== file) return undefined;
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => undefined);
  if (!handle) return undefined;
  if (!(await handle.stat()).isFile()) {
    await handle.close();
    return undefined;
  }
  return handle;
}

async function handle(root: string, port: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!isAllowedHost(req.headers.host, port)) {
    send(res, 403, `forbidden: this preview answers only to http://127.0.0.1:${port}/ (or localhost)`);
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'method not allowed');
    return;
  }
  let path: string;
  try {
    path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
  } catch {
    send(res, 400, 'bad request: malformed URL');
    return;
  }
  if (path === '/') {
    const files = await listFiles(root);
    const links = files.map((f) => `<li><a href="/${f.split(sep).map(encodeURIComponent).join('/')}">${esc(f)}</a></li>`).join('');
    send(
      res,
      200,
      `<!DOCTYPE html><meta charset="utf-8"><title>cdrpipe reports</title><h1>${esc(root)}</h1><ul>${links}</ul>`,
      TYPES['.html'],
    );
    return;
  }
  const file = await openInside(root, path);
  if (!file) {
    send(res, 404, 'not found');
    return;
  }
  try {
    send(res, 200, await file.readFile(), TYPES[extname(path)]);
  } finally {
    await file.close();
  }
}

export interface PreviewServer {
  url: string;
  close(): Promise<void>;
}

/** Serves `dir` (data/reports/YYYY-MM) on 127.0.0.1; only regular files inside it, read-only. */
export async function startPreviewServer(dir: string, port = 0): Promise<PreviewServer> {
  const root = await realpath(resolve(dir));
  let bound = port;
  const server: Server = createServer((req, res) => {
    handle(root, bound, req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, `error: ${err instanceof Error ? err.message : String(err)}`);
      else res.destroy();
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => ok());
  });
  const addr = server.address();
  bound = typeof addr === 'object' && addr ? addr.port : port;
  return { url: `http://127.0.0.1:${bound}/`, close: () => new Promise((ok) => server.close(() => ok())) };
}
