import pLimit, { type LimitFunction } from 'p-limit';
import type { Clock } from '../util/clock.ts';
import { redact } from '../util/errors.ts';
import type { Logger } from '../util/logger.ts';
import { scrubSecrets } from '../util/secrets.ts';
import { BackoffGate } from './backoff-gate.ts';
import { RateLimiter } from './rate-limiter.ts';
import { parseRetryAfter, retryDelay, retryReasonForStatus, slowsEveryone, type RetryReason } from './retry-policy.ts';
import { abortReason, throwIfAborted, type SleepFn } from '../util/sleep.ts';
import { BodyShapeError, NetSapiensBodyError, NetSapiensHttpError, NetSapiensTransportError, readServerError } from './source-errors.ts';
import type { SourceStats } from './types.ts';

/** Supplies bearer tokens; the transport calls it before every attempt and once after a 401. */
export interface AuthProvider {
  token(signal?: AbortSignal): Promise<string>;
  /**
   * Called at most once per request, after a 401 answered `staleToken`. Resolves the token to
   * retry with, or null when nothing can be refreshed (a static key): the 401 is then final.
   */
  refreshAfter401(staleToken: string, signal?: AbortSignal): Promise<string | null>;
  /** Every secret this provider holds, scrubbed from anything the transport reports. */
  secrets(): string[];
  /** What to tell the operator when the server keeps answering 401 (which settings to check). */
  readonly unauthorizedHint: string;
}

export interface RetrySettings {
  /** Attempts per request for transient faults (429, 5xx, network, timeout, bad body), first included. */
  maxAttempts: number;
  /** Full-jitter backoff: the n-th retry waits uniform [0, min(maxDelayMs, baseDelayMs * 2^n)]. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** `Retry-After` is obeyed up to this long; a longer ask is cut to this. */
  retryAfterCapMs: number;
}

export const DEFAULT_RETRY: RetrySettings = { maxAttempts: 8, baseDelayMs: 500, maxDelayMs: 30_000, retryAfterCapMs: 120_000 };

export interface TransportOptions {
  /** API base, e.g. https://pbx.example.com/ns-api/v2 (no trailing slash needed). */
  baseUrl: string;
  /**
   * Measures waits (backoff gate, rate limiter, `Retry-After` dates). It must move with `sleep`:
   * the wall clock with real timers, or a virtual clock that a test's sleep advances.
   */
  waitClock: Clock;
  logger: Logger;
  sleep: SleepFn;
  /** [0, 1) like Math.random; injected so backoff is exact in tests. */
  random: () => number;
  fetch: typeof globalThis.fetch;
  /** Per attempt, from sending the request to having read the whole body. */
  timeoutMs: number;
  retry: RetrySettings;
  requestsPerSecond?: number | undefined;
  /** Attempts in flight at once across the whole client; undefined means no cap. */
  maxConcurrentRequests?: number | undefined;
  userAgent?: string | undefined;
}

export interface TransportRequest<T> {
  method: 'GET' | 'POST';
  /** Path under the base, starting with `/`, path segments already encoded. */
  path: string;
  query?: Record<string, string | number>;
  /** Sent as JSON. */
  body?: unknown;
  auth: AuthProvider | undefined;
  /** Turns a 2xx body into the result; throw BodyShapeError for a body that may be a transient fault. */
  parse: (text: string) => T;
  /**
   * Turns a 2xx body into the result from its bytes, instead of `parse` (which then only serves
   * bodies read as text): for large bodies that are cheaper to read without one big string.
   */
  parseBytes?: (bytes: Buffer) => T;
  /** Retry 2xx bodies that fail `parse` (true for GETs and other idempotent calls). Default: GET only. */
  retryBadBody?: boolean;
  /** Extra strings to scrub from errors (e.g. the password sent in a token request body). */
  secrets?: string[];
  signal?: AbortSignal | undefined;
}

type Attempt<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'status'; status: number; text: string; retryAfter: string | null; location: string | null }
  | { kind: 'bad-body'; reason: string; text: string }
  | { kind: 'network' | 'timeout'; detail: string };

/**
 * HTTP with the manners a shared multi-tenant PBX needs: per-attempt timeouts, retries with
 * full-jitter backoff on 429/5xx/connection faults/unusable bodies, `Retry-After` honoured,
 * a client-wide backoff gate, an optional requests-per-second cap and one token refresh on 401.
 */
export class HttpTransport {
  private readonly gate: BackoffGate;
  private readonly limiter: RateLimiter | undefined;
  private readonly inFlight: LimitFunction | undefined;
  private readonly base: string;
  private readonly counters = { requests: 0, retries: 0, retriesByReason: {} as Record<string, number> };

  constructor(private readonly opts: TransportOptions) {
    let parsed: URL;
    try {
      parsed = new URL(opts.baseUrl);
    } catch {
      throw new TypeError(
        `NetSapiens API base ${JSON.stringify(redact(opts.baseUrl))} is not a URL; expected e.g. https://pbx.example.com/ns-api/v2`,
      );
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new TypeError(`NetSapiens API base must be http(s), got ${parsed.protocol}`);
    }
    // fetch would send them as Basic auth on every request and put them in every error's URL.
    if (parsed.username !== '' || parsed.password !== '') {
      throw new TypeError(
        'NetSapiens API base contains credentials (user:password@host): remove them and authenticate with a key or OAuth',
      );
    }
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.gate = new BackoffGate(opts.waitClock, opts.sleep);
    this.limiter = opts.requestsPerSecond ? new RateLimiter(opts.requestsPerSecond, opts.waitClock, opts.sleep) : undefined;
    this.inFlight = opts.maxConcurrentRequests ? pLimit(opts.maxConcurrentRequests) : undefined;
  }

  stats(): SourceStats {
    return { requests: this.counters.requests, retries: this.counters.retries, retriesByReason: { ...this.counters.retriesByReason } };
  }

  /** Milliseconds until the shared backoff gate reopens (0 when open). */
  gateRemainingMs(): number {
    return this.gate.remainingMs();
  }

  async request<T>(req: TransportRequest<T>): Promise<T> {
    const { signal } = req;
    const shownPath = req.path + queryString(req.query);
    const url = this.base + shownPath;
    const retryBadBody = req.retryBadBody ?? req.method === 'GET';
    let attempts = 0;
    let retries = 0;
    let refreshed401 = false;
    let token: string | undefined;

    for (;;) {
      throwIfAborted(signal);
      if ((await this.gate.wait(signal)) > 0) {
        // Everyone queued at the gate would otherwise hit the server in the same instant.
        const spread = Math.floor(this.opts.random() * this.opts.retry.baseDelayMs);
        if (spread > 0) await this.opts.sleep(spread, signal);
      }
      if (this.limiter) await this.limiter.acquire(signal);
      if (req.auth && token === undefined) token = await req.auth.token(signal);
      attempts++;
      this.counters.requests++;
      const run = () => this.attempt(req, url, token, signal);
      const result = this.inFlight ? await this.inFlight(run) : await run();

      if (result.kind === 'ok') return result.value;

      let reason: RetryReason | null;
      let retryAfterMs: number | null = null;
      if (result.kind === 'status') {
        if (result.status === 401 && req.auth && token !== undefined && !refreshed401) {
          refreshed401 = true;
          const fresh = await req.auth.refreshAfter401(token, signal);
          if (fresh !== null) {
            this.countRetry('401');
            this.opts.logger.debug({ method: req.method, path: shownPath }, 'NetSapiens answered 401: token refreshed, retrying once');
            token = fresh;
            continue;
          }
        }
        reason = retryReasonForStatus(result.status);
        if (reason === null) {
          const hint =
            result.status >= 300 && result.status <= 399
              ? `The server redirects${result.location ? ` to ${this.scrub(result.location.split('?')[0]!, req)}` : ''}: set NS_API_URL to the final API base (…/ns-api/v2)`
              : undefined;
          throw this.httpError(req, shownPath, result.status, result.text, attempts, hint);
        }
        retryAfterMs = parseRetryAfter(result.retryAfter, this.opts.waitClock.now().getTime());
      } else if (result.kind === 'bad-body') {
        if (!retryBadBody)
          throw new NetSapiensBodyError(req.method, shownPath, result.reason, attempts, this.scrub(result.text.slice(0, 200), req));
        reason = 'bad-body';
      } else {
        reason = result.kind;
      }

      if (attempts >= this.opts.retry.maxAttempts) throw this.exhausted(req, shownPath, result, attempts);

      const delay = retryDelay(retries, retryAfterMs, this.opts.retry, this.opts.random);
      retries++;
      this.countRetry(reason);
      this.opts.logger.debug(
        { method: req.method, path: shownPath, reason, attempt: attempts, delayMs: delay },
        'retrying NetSapiens request',
      );
      if (slowsEveryone(reason)) {
        // The provider is shared: everybody waits, not just this request.
        this.gate.closeFor(delay);
      } else if (delay > 0) {
        await this.opts.sleep(delay, signal);
      }
      // A fresh token for the next attempt (cheap: cached unless it is about to expire).
      token = undefined;
    }
  }

  private countRetry(reason: RetryReason): void {
    this.counters.retries++;
    this.counters.retriesByReason[reason] = (this.counters.retriesByReason[reason] ?? 0) + 1;
  }

  private async attempt<T>(
    req: TransportRequest<T>,
    url: string,
    token: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Attempt<T>> {
    throwIfAborted(signal);
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new DOMException('NetSapiens request timed out', 'TimeoutError'));
    }, this.opts.timeoutMs);
    const onCallerAbort = () => controller.abort(abortReason(signal!));
    signal?.addEventListener('abort', onCallerAbort, { once: true });
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    if (this.opts.userAgent) headers['user-agent'] = this.opts.userAgent;
    let status: number;
    let text: string;
    let bytes: Buffer | undefined;
    let retryAfter: string | null;
    let location: string | null;
    try {
      const res = await this.opts.fetch(url, {
        method: req.method,
        headers,
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
        signal: controller.signal,
        // Never follow: a redirect would carry the bearer token to wherever it points.
        redirect: 'manual',
      });
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      location = res.headers.get('location');
      if (req.parseBytes && status >= 200 && status <= 299) {
        bytes = Buffer.from(await res.arrayBuffer());
        // Only what an error message shows (a bad body is quoted up to 200 characters).
        text = bytes.toString('utf8', 0, 1024);
      } else text = await res.text();
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      if (timedOut) return { kind: 'timeout', detail: `no complete answer within ${this.opts.timeoutMs} ms` };
      return { kind: 'network', detail: describeNetworkError(err) };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onCallerAbort);
    }
    if (status < 200 || status > 299) return { kind: 'status', status, text, retryAfter, location };
    try {
      return { kind: 'ok', value: bytes && req.parseBytes ? req.parseBytes(bytes) : req.parse(text) };
    } catch (err) {
      if (err instanceof BodyShapeError) return { kind: 'bad-body', reason: err.message, text };
      throw err;
    }
  }

  private scrub(text: string, req: TransportRequest<unknown>): string {
    return redact(scrubSecrets(text, [...(req.auth?.secrets() ?? []), ...(req.secrets ?? [])]));
  }

  private httpError(
    req: TransportRequest<unknown>,
    shownPath: string,
    status: number,
    text: string,
    attempts: number,
    hint: string | undefined,
  ): NetSapiensHttpError {
    const server = readServerError(this.scrub(text, req));
    const why =
      hint ??
      (status === 401
        ? req.path === '/tokens'
          ? 'The OAuth credentials were refused: check NS_CLIENT_ID, NS_CLIENT_SECRET, NS_USERNAME and NS_PASSWORD'
          : (req.auth?.unauthorizedHint ?? 'The credentials were refused')
        : status === 403
          ? 'The key or user may not read this domain (a domain-scoped key sees only its own domain)'
          : status === 404
            ? 'Check NS_API_URL (it should end in /ns-api/v2) and the domain name'
            : undefined);
    return new NetSapiensHttpError(status, req.method, shownPath, server, attempts, why);
  }

  private exhausted(req: TransportRequest<unknown>, shownPath: string, last: Attempt<unknown>, attempts: number): Error {
    switch (last.kind) {
      case 'status':
        return this.httpError(
          req,
          shownPath,
          last.status,
          last.text,
          attempts,
          'The server kept failing; retry later or lower the concurrency',
        );
      case 'bad-body':
        return new NetSapiensBodyError(req.method, shownPath, last.reason, attempts, this.scrub(last.text.slice(0, 200), req));
      case 'network':
      case 'timeout':
        return new NetSapiensTransportError(req.method, shownPath, last.kind, attempts, this.scrub(last.detail, req));
      default:
        return new Error('unreachable');
    }
  }
}

function queryString(query: Record<string, string | number> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) params.append(k, String(v));
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}

function describeNetworkError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${cause.message}` : cause.message;
  }
  return err.message;
}
