/**
 * The HTTP face of the simulator: routing under /ns-api/v2, auth, fault application, and the
 * v2 answer shapes. Thin: data questions go to the CdrStore, auth to the AuthService, fault
 * decisions to the FaultEngine.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../util/logger.ts';
import type { Clock } from '../util/clock.ts';
import { realSleep } from '../util/sleep.ts';
import { seesDomain, seesResellerWide, type AuthService, type CredentialScope } from './auth.ts';
import { directionFilter, renderEntries, type CdrStore, type StartRange } from './cdr-store.ts';
import { domainObject, phoneNumberObjects, userObjects } from './domain-gen.ts';
import { parseApiDatetime, type DatetimeFormat } from './datetime-format.ts';
import type { EndpointName, FaultDecision, FaultEngine, FaultKind } from './faults.ts';
import type { ResellerView } from './reseller-view.ts';

export const BASE_PATH = '/ns-api/v2';
export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 100;

/** Request counters, as `sim.stats()` returns them. */
export interface SimulatorStats {
  requests: number;
  byEndpoint: Record<string, number>;
  byStatus: Record<string, number>;
  faultsInjected: Record<FaultKind, number>;
}

export interface ServerContext {
  store: CdrStore;
  /** The reseller-wide `/cdrs` and `/cdrs/count`. */
  reseller: ResellerView;
  /** False answers 404 on the reseller-wide endpoints, as servers without them do. */
  resellerEndpoints: boolean;
  auth: AuthService;
  faults: FaultEngine;
  clock: Clock;
  strict: boolean;
  /** When set, every response uses this datetime form whatever the request used. */
  forceDatetimeFormat: DatetimeFormat | undefined;
  /** Response form when the request carried no datetime at all. */
  defaultDatetimeFormat: DatetimeFormat;
  counters: { requests: number; byEndpoint: Record<string, number>; byStatus: Record<string, number> };
  logger: Logger | undefined;
}

interface Reply {
  status: number;
  body: string | Buffer;
  headers?: Record<string, string>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function json(status: number, value: unknown): Reply {
  return { status, body: JSON.stringify(value) };
}

function errorReply(status: number, message: string, headers?: Record<string, string>): Reply {
  const r = json(status, { code: status, message });
  if (headers) r.headers = headers;
  return r;
}

interface Route {
  endpoint: EndpointName;
  method: string;
  domain?: string;
}

/** Splits the raw path before decoding, so an encoded `/` inside a domain name stays inside it. */
function route(method: string, rawPath: string): Route | HttpError {
  if (rawPath !== BASE_PATH && !rawPath.startsWith(BASE_PATH + '/'))
    return new HttpError(404, `no such path ${rawPath}: the API lives under ${BASE_PATH}`);
  let segs: string[];
  try {
    segs = rawPath
      .slice(BASE_PATH.length)
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    return new HttpError(400, `path ${rawPath} has a malformed percent-encoding`);
  }
  const [a, b, c, d] = segs;
  if (a === 'tokens' && segs.length === 1) return { endpoint: 'tokens', method: 'POST' };
  if (a === 'cdrs' && segs.length === 1) return { endpoint: 'reseller-cdrs', method: 'GET' };
  if (a === 'cdrs' && b === 'count' && segs.length === 2) return { endpoint: 'reseller-cdrs-count', method: 'GET' };
  if (a !== 'domains') return new HttpError(404, `no such endpoint ${rawPath}`);
  if (segs.length === 1) return { endpoint: 'domains', method: 'GET' };
  if (segs.length === 2 && b === 'count') return { endpoint: 'domains-count', method: 'GET' };
  if (segs.length === 2) return { endpoint: 'domain', method: 'GET', domain: b! };
  if (c === 'cdrs' && segs.length === 3) return { endpoint: 'cdrs', method: 'GET', domain: b! };
  if (c === 'cdrs' && d === 'count' && segs.length === 4) return { endpoint: 'cdrs-count', method: 'GET', domain: b! };
  if (c === 'users' && segs.length === 3) return { endpoint: 'users', method: 'GET', domain: b! };
  if (c === 'users' && d === 'count' && segs.length === 4) return { endpoint: 'users-count', method: 'GET', domain: b! };
  if (c === 'phonenumbers' && segs.length === 3) return { endpoint: 'phonenumbers', method: 'GET', domain: b! };
  return new HttpError(404, `no such endpoint ${rawPath}`);
}

function intParam(q: URLSearchParams, name: string, dflt: number): number {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  if (!/^\d+$/.test(v)) throw new HttpError(400, `${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

function paging(q: URLSearchParams): { start: number; limit: number } {
  const start = intParam(q, 'start', 0);
  const limit = intParam(q, 'limit', DEFAULT_LIMIT);
  if (limit > MAX_LIMIT) throw new HttpError(400, `limit must be at most ${MAX_LIMIT}, got ${limit}`);
  if (limit < 1) throw new HttpError(400, `limit must be at least 1, got ${limit}`);
  return { start, limit };
}

/**
 * Reads a datetime query value. A `+` offset sent unencoded arrives as a space (form decoding):
 * repaired here the way lenient servers do.
 */
function datetimeParam(q: URLSearchParams, name: string): ReturnType<typeof parseApiDatetime> | null {
  const raw = q.get(name);
  if (raw === null || raw === '') return null;
  const parsed = parseApiDatetime(raw) ?? parseApiDatetime(raw.replace(/ (\d{2}:?\d{2}(\[[^\]]*\])?)$/, '+$1'));
  if (!parsed) {
    throw new HttpError(
      400,
      `${name} ${JSON.stringify(raw)} is not a datetime; use e.g. 2026-11-27T13:00:00Z, 2026-11-27 13:00:00 or 2026-11-27T13:00:00-08:00`,
    );
  }
  return parsed;
}

function cdrQuery(
  ctx: ServerContext,
  q: URLSearchParams,
): { range: StartRange; format: DatetimeFormat; directions: readonly number[] | undefined } {
  const start = datetimeParam(q, 'datetime-start');
  const end = datetimeParam(q, 'datetime-end');
  const format = ctx.forceDatetimeFormat ?? start?.format ?? end?.format ?? ctx.defaultDatetimeFormat;
  let range: StartRange;
  if (start && end) {
    // Inclusive end, as some live servers do; clients enforce half-open windows themselves.
    range = { fromMs: start.epochMs, toMs: end.epochMs, endInclusive: true };
  } else if (ctx.strict) {
    throw new HttpError(400, 'datetime-start and datetime-end are both required');
  } else {
    // Live servers silently ignore a lone bound and return unbounded history.
    range = { fromMs: -Infinity, toMs: Infinity, endInclusive: true };
  }
  const directions = directionFilter(q.get('type') ?? undefined);
  if (directions === null)
    throw new HttpError(
      400,
      `type ${JSON.stringify(q.get('type'))} is not one of Inbound, Outbound, On-net, Off-net, Missed, Received, 0-3`,
    );
  return { range, format, directions };
}

function handle(
  ctx: ServerContext,
  r: Route,
  q: URLSearchParams,
  body: Record<string, unknown> | undefined,
  scope: CredentialScope | undefined,
): Reply {
  if (r.endpoint === 'tokens') {
    const g = ctx.auth.grant(body ?? {});
    return json(g.status, g.body);
  }
  const vis = { nowMs: ctx.clock.now().getTime(), ...ctx.faults.dataFaults() };
  // A domain key sees its own domain only (when the simulator knows which one it is).
  const visible = ctx.store.profiles().filter((p) => scope === undefined || seesDomain(scope, p.domain));
  switch (r.endpoint) {
    case 'domains': {
      const { start, limit } = paging(q);
      return json(200, visible.slice(start, start + limit).map(domainObject));
    }
    case 'domains-count':
      return json(200, { total: visible.length });
    case 'reseller-cdrs':
    case 'reseller-cdrs-count': {
      if (!ctx.resellerEndpoints) throw new HttpError(404, `no such endpoint /${r.endpoint === 'reseller-cdrs' ? 'cdrs' : 'cdrs/count'}`);
      if (scope !== undefined && !seesResellerWide(scope))
        throw new HttpError(403, 'Reseller scope required; this credential is not permitted');
      const { range, format, directions } = cdrQuery(ctx, q);
      if (r.endpoint === 'reseller-cdrs-count') return json(200, ctx.reseller.totals(range, vis, directions, ctx.faults));
      const { start, limit } = paging(q);
      return { status: 200, body: renderEntries(ctx.reseller.select(range, vis, start, limit, directions, ctx.faults), format) };
    }
    default:
      break;
  }
  const profile = r.domain === undefined ? undefined : ctx.store.profile(r.domain);
  if (!profile || (scope !== undefined && !seesDomain(scope, profile.domain)))
    throw new HttpError(403, 'Domain not found or access denied');
  switch (r.endpoint) {
    case 'domain':
      return json(200, domainObject(profile));
    case 'users': {
      const { start, limit } = paging(q);
      return json(200, userObjects(profile).slice(start, start + limit));
    }
    case 'users-count':
      return json(200, { total: profile.users.length });
    case 'phonenumbers': {
      const { start, limit } = paging(q);
      return json(200, phoneNumberObjects(profile).slice(start, start + limit));
    }
    case 'cdrs': {
      const { start, limit } = paging(q);
      const { range, format, directions } = cdrQuery(ctx, q);
      const keep = ctx.faults.listKeep(profile.domain);
      const entries =
        keep === undefined
          ? ctx.store.select(profile.domain, range, vis, start, limit, directions)
          : start >= keep
            ? []
            : ctx.store.select(profile.domain, range, vis, start, Math.min(limit, keep - start), directions);
      return { status: 200, body: renderEntries(entries, format) };
    }
    case 'cdrs-count': {
      const { range, directions } = cdrQuery(ctx, q);
      const totals = ctx.store.totals(profile.domain, range, vis, directions);
      const forced = ctx.faults.countTotal(profile.domain);
      return json(200, forced === undefined ? totals : { ...totals, total: forced });
    }
    default:
      throw new HttpError(404, 'no such endpoint');
  }
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 65_536) throw new HttpError(413, 'request body larger than 64 KiB');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  const type = req.headers['content-type'] ?? '';
  if (type.includes('application/x-www-form-urlencoded') || (!type.includes('json') && !text.trim().startsWith('{'))) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new HttpError(400, 'request body is neither a JSON object nor form-encoded fields');
}

function send(res: ServerResponse, reply: Reply, fault: FaultDecision): void {
  let buf = typeof reply.body === 'string' ? Buffer.from(reply.body, 'utf8') : reply.body;
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', ...reply.headers };
  if (reply.status === 200 && fault.kind === 'truncate' && buf.length > 1) {
    // Cut in the middle, a complete HTTP message whose JSON does not parse.
    buf = buf.subarray(0, Math.max(1, Math.floor(buf.length / 2)));
  }
  headers['content-length'] = String(buf.length);
  res.writeHead(reply.status, headers);
  if (fault.kind === 'drop') {
    res.write(buf.subarray(0, Math.floor(buf.length / 2)), () => res.socket?.destroy());
    return;
  }
  res.end(buf);
}

/** The node:http request listener. */
export function createRequestListener(ctx: ServerContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void serve(ctx, req, res).catch((e: unknown) => {
      ctx.logger?.error({ err: e instanceof Error ? e.message : String(e) }, 'simulator request failed');
      if (!res.headersSent) send(res, errorReply(500, 'internal simulator error'), { kind: 'none' });
      else res.destroy();
    });
  };
}

async function serve(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  const rawUrl = req.url ?? '/';
  const qAt = rawUrl.indexOf('?');
  const rawPath = qAt >= 0 ? rawUrl.slice(0, qAt) : rawUrl;
  const query = new URLSearchParams(qAt >= 0 ? rawUrl.slice(qAt + 1) : '');
  const c = ctx.counters;
  c.requests++;
  const routed = route(method, rawPath);
  const endpoint: EndpointName = routed instanceof HttpError ? 'other' : routed.endpoint;
  c.byEndpoint[endpoint] = (c.byEndpoint[endpoint] ?? 0) + 1;
  const finish = (reply: Reply, fault: FaultDecision): void => {
    c.byStatus[reply.status] = (c.byStatus[reply.status] ?? 0) + 1;
    ctx.logger?.debug({ method, path: rawPath, status: reply.status, fault: fault.kind }, 'simulator request');
    send(res, reply, fault);
  };

  if (ctx.faults.tokenExpiryDue(c.requests, ctx.clock.now().getTime())) ctx.auth.invalidateAccessTokens();
  if (ctx.faults.latencyMs > 0) {
    ctx.faults.injected.latency++;
    await realSleep(ctx.faults.latencyMs);
  }
  let body: Record<string, unknown> | undefined;
  try {
    if (routed instanceof HttpError) throw routed;
    if (method !== routed.method) throw new HttpError(405, `${method} is not allowed on ${rawPath}; use ${routed.method}`);
    if (routed.endpoint === 'tokens') body = await readBody(req);
  } catch (e) {
    if (e instanceof HttpError) return finish(errorReply(e.status, e.message), { kind: 'none' });
    throw e;
  }
  const fault = ctx.faults.decide(endpoint, `${method} ${rawUrl}`);
  if (fault.kind === 'rate-limit')
    return finish(errorReply(429, 'Too many requests; retry later', { 'retry-after': fault.retryAfter }), { kind: 'none' });
  if (fault.kind === 'error')
    return finish(errorReply(fault.status, fault.status === 503 ? 'Service temporarily unavailable' : 'Internal server error'), {
      kind: 'none',
    });
  let scope: CredentialScope | undefined;
  if (routed.endpoint !== 'tokens') {
    const auth = ctx.auth.check(req.headers.authorization);
    if (!auth.ok) return finish(errorReply(auth.status, auth.message, { 'www-authenticate': 'Bearer' }), { kind: 'none' });
    scope = auth.scope;
  }
  let reply: Reply;
  try {
    reply = handle(ctx, routed, query, body, scope);
  } catch (e) {
    if (!(e instanceof HttpError)) throw e;
    reply = errorReply(e.status, e.message);
  }
  finish(reply, fault);
}
