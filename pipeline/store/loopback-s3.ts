/**
 * An S3 endpoint on 127.0.0.1 for the demo and the tests: `s3rver` (a development dependency,
 * loaded only when asked for) behind a small front that gives it the behaviour of the real stores
 * where s3rver falls short:
 *
 * - A PUT body is received whole before s3rver sees it: s3rver writes into the object file as the
 *   bytes arrive, so a client killed mid-upload would leave a truncated object. Real stores
 *   publish an object only complete.
 * - Conditional writes: s3rver ignores If-Match / If-None-Match on PUT and DELETE. The front
 *   checks them against the object's current ETag, one write per key at a time, and answers 412
 *   PreconditionFailed as S3 does.
 * - s3rver can answer a PUT before the object's bytes are all on disk: the front waits until a
 *   HEAD shows the full length before it answers.
 *
 * `intercept` lets a test answer a request itself (503 SlowDown, a held PUT) or count it.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UsageError } from '../util/errors.ts';

/** A request as the front sees it (path-style: /bucket/key). */
export interface FrontRequest {
  method: string;
  bucket: string;
  key: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
}

/** What `intercept` may do: answer with an S3 error, or hold the request until `release` resolves (or the client goes). */
export type FrontAction = { status: number; code: string } | { hold: Promise<void> } | undefined;

export interface LoopbackS3Options {
  /** s3rver's storage folder. */
  directory: string;
  /** Buckets to create. */
  buckets: readonly string[];
  intercept?: (r: FrontRequest) => FrontAction | Promise<FrontAction>;
}

export interface LoopbackS3 {
  /** http://127.0.0.1:<port>: what AWS_ENDPOINT_URL_S3 is set to. */
  endpoint: string;
  /** The access key s3rver knows (its secret is the same string). */
  accessKeyId: string;
  secretAccessKey: string;
  close(): Promise<void>;
}

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverClass = new (opts: Record<string, unknown>) => S3rverInstance;

/** Loads s3rver, or explains how to get it: exit 2. */
async function loadS3rver(): Promise<S3rverClass> {
  try {
    // By name at run time: a development dependency, absent from a production install.
    const name = 's3rver';
    const mod = (await import(name)) as { default: S3rverClass };
    return mod.default;
  } catch (err) {
    throw new UsageError(
      'the local S3 server needs the s3rver package (a development dependency): run `npm install` in the project, ' +
        'or point CDRPIPE_LAKE_URL and AWS_ENDPOINT_URL_S3 at a store of your own',
      { cause: err },
    );
  }
}

/** Starts s3rver and its front on loopback ports chosen by the system. */
export async function startLoopbackS3(opts: LoopbackS3Options): Promise<LoopbackS3> {
  const S3rver = await loadS3rver();
  const backend = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: opts.directory,
    configureBuckets: opts.buckets.map((name) => ({ name })),
  });
  const { port: backendPort } = await backend.run();
  const locks = new Map<string, Promise<void>>();
  const front = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'InternalError', String(err));
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://front');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const fr: FrontRequest = {
      method: req.method ?? 'GET',
      bucket: decodeURIComponent(bucket),
      key: decodeURIComponent(rest.join('/')),
      query: url.searchParams,
      headers: req.headers,
    };
    const action = await opts.intercept?.(fr);
    if (action && 'hold' in action) {
      const gone = new Promise<void>((r) => req.on('close', () => r()));
      await Promise.race([action.hold, gone]);
      if (req.destroyed || res.destroyed) return;
    } else if (action) {
      await readBody(req);
      sendError(res, action.status, action.code, `injected ${action.code}`);
      return;
    }
    const { body, complete } = await readBody(req);
    // A client that went away mid-body: nothing reaches the store, as with a real one.
    if (!complete) return;
    const conditional = (fr.method === 'PUT' || fr.method === 'DELETE') && fr.key !== '' && !fr.query.has('partNumber');
    if (!conditional) {
      await forward(req, res, body);
      return;
    }
    // One write per key at a time, so check-then-write cannot interleave with another writer's.
    const lockKey = `${fr.bucket}/${fr.key}`;
    const previous = locks.get(lockKey) ?? Promise.resolve();
    let unlock!: () => void;
    const mine = new Promise<void>((r) => (unlock = r));
    locks.set(
      lockKey,
      previous.then(() => mine),
    );
    await previous;
    try {
      const current = await headEtag(url.pathname);
      const ifMatch = req.headers['if-match'];
      const ifNoneMatch = req.headers['if-none-match'];
      if (ifNoneMatch === '*' && current !== undefined)
        return sendError(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      if (typeof ifMatch === 'string' && (current === undefined ? fr.method === 'PUT' : unquote(ifMatch) !== unquote(current))) {
        return current === undefined
          ? sendError(res, 404, 'NoSuchKey', 'The specified key does not exist.')
          : sendError(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      }
      const status = await forward(req, res, body);
      if (fr.method === 'PUT' && status === 200 && body) await waitForLength(url.pathname, body.length);
    } finally {
      unlock();
      if (locks.get(lockKey) === mine) locks.delete(lockKey);
    }
  }

  function backendRequest(method: string, path: string, headers: IncomingMessage['headers'], body?: Buffer): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const h: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(headers)) {
        if (v === undefined || ['if-match', 'if-none-match', 'transfer-encoding', 'connection'].includes(k)) continue;
        h[k] = v;
      }
      if (body) h['content-length'] = String(body.length);
      else if (method === 'HEAD' || method === 'GET') delete h['content-length'];
      const r = httpRequest({ host: '127.0.0.1', port: backendPort, method, path, headers: h }, resolve);
      r.on('error', reject);
      r.end(body);
    });
  }

  async function forward(req: IncomingMessage, res: ServerResponse, body: Buffer | undefined): Promise<number> {
    const up = await backendRequest(req.method ?? 'GET', req.url ?? '/', req.headers, body);
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
    await new Promise<void>((r) => {
      res.on('finish', () => r());
      res.on('close', () => r());
    });
    return up.statusCode ?? 502;
  }

  // Unsigned: s3rver serves anonymous requests, and the client's signature was made for another request.
  async function headEtag(path: string): Promise<string | undefined> {
    const r = await backendRequest('HEAD', path, {});
    r.resume();
    return r.statusCode === 200 ? String(r.headers.etag ?? '') : undefined;
  }

  async function waitForLength(path: string, length: number): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const r = await backendRequest('HEAD', path, {});
      r.resume();
      if (Number(r.headers['content-length']) === length) return;
      await new Promise((res) => setTimeout(res, 10));
    }
  }

  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  const { port } = front.address() as AddressInfo;
  let closed = false;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    close: async () => {
      if (closed) return;
      closed = true;
      front.closeAllConnections();
      await new Promise<void>((r) => front.close(() => r()));
      await backend.close();
    },
  };
}

function unquote(etag: string): string {
  return etag.replace(/^W\//, '').replace(/"/g, '');
}

/** The whole body (undefined when empty); `complete` is false when the client went away before sending it all. */
function readBody(req: IncomingMessage): Promise<{ body: Buffer | undefined; complete: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ body: chunks.length ? Buffer.concat(chunks) : undefined, complete: true }));
    req.on('aborted', () => resolve({ body: undefined, complete: false }));
    req.on('error', () => resolve({ body: undefined, complete: false }));
  });
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
  res.end(xml);
}
