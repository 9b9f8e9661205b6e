import type { AuthConfig } from '../config/index.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { UsageError } from '../util/errors.ts';
import { silentLogger, type Logger } from '../util/logger.ts';
import { createAuthProvider, OAuthTokenProvider, type ApiKeyAuth } from './auth.ts';
import { parseCdrPage, parseCdrPageBytes } from './cdr-page.ts';
import { countField, parseDomainPage, parseJsonObject, unsafeDomainReason } from './domains.ts';
import { DEFAULT_RETRY, HttpTransport, type RetrySettings } from './http-transport.ts';
import { formatNsDatetime, parseNsDatetime } from './ns-datetime.ts';
import { realSleep, type SleepFn } from '../util/sleep.ts';
import { BodyShapeError, NetSapiensBodyError } from './source-errors.ts';
import {
  ALL_DOMAINS,
  type CallOptions,
  type CdrCount,
  type CdrPage,
  type CdrSource,
  type CredentialScope,
  type DomainInfo,
  type SourceStats,
  type TimeWindow,
} from './types.ts';

/** The API's documented maximum for `limit`. */
export const MAX_PAGE_SIZE = 1000;

export interface NetSapiensClientOptions {
  /** API base, e.g. https://pbx.example.com/ns-api/v2 (the simulator's `url`). */
  baseUrl: string;
  auth: AuthConfig;
  /**
   * Decides OAuth token expiry. Backoff waits use it too, but only when `sleep` is injected as
   * well (a virtual clock that the injected sleep advances); with real timers, waits are measured
   * on the wall clock whatever this clock says, so a pinned clock can never stall a retry.
   */
  clock?: Clock;
  logger?: Logger;
  /** Default: the global fetch (undici). */
  fetch?: typeof globalThis.fetch;
  /** Default: real timers. Tests pass a fake that advances their clock. */
  sleep?: SleepFn;
  /** [0, 1); default Math.random. Drives backoff jitter. */
  random?: () => number;
  /** Per attempt, request sent to body read. Default 60 000 ms. */
  timeoutMs?: number;
  /** Attempt budget and backoff; defaults in DEFAULT_RETRY (8 attempts, 500 ms base, 30 s cap, Retry-After cap 120 s). */
  retry?: Partial<RetrySettings>;
  /** Evenly spaced sends, at most this many per second across the client. */
  requestsPerSecond?: number;
  /** At most this many HTTP requests in flight across the client. */
  maxConcurrentRequests?: number;
  /** OAuth: refresh this long before expiry. Default 60 s (at most half a token's life). */
  tokenRefreshMarginSeconds?: number;
  /** Zone of bare `YYYY-MM-DD HH:MM:SS` datetimes in responses; default UTC. */
  bareDatetimeZone?: string;
  /** Aborts every call of this client (combined with each call's own signal). */
  signal?: AbortSignal;
  userAgent?: string;
}

/**
 * The NetSapiens v2 client: authentication, polite transport and the read endpoints the
 * pipeline uses. Create with `NetSapiensClient.create(opts)`.
 */
export class NetSapiensClient implements CdrSource {
  private readonly transport: HttpTransport;
  private readonly authProvider: ApiKeyAuth | OAuthTokenProvider;
  private readonly logger: Logger;
  private readonly bareZone: string | undefined;
  private readonly clientSignal: AbortSignal | undefined;
  private readonly scope: CredentialScope;

  private constructor(opts: NetSapiensClientOptions) {
    this.scope = opts.auth.kind === 'api-key' ? scopeOfKey(opts.auth.apiKey) : 'unknown';
    const clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? silentLogger();
    this.clientSignal = opts.signal;
    if (opts.bareDatetimeZone !== undefined && parseNsDatetime(`2000-01-01 00:00:00[${opts.bareDatetimeZone}]`) === null) {
      throw new UsageError(
        `bareDatetimeZone ${JSON.stringify(opts.bareDatetimeZone)} is not a time zone this runtime knows (use an IANA name such as America/New_York)`,
      );
    }
    this.bareZone = opts.bareDatetimeZone;
    const retry = { ...DEFAULT_RETRY, ...opts.retry };
    if (!(retry.maxAttempts >= 1)) throw new UsageError(`retry.maxAttempts must be at least 1, got ${retry.maxAttempts}`);
    this.transport = new HttpTransport({
      baseUrl: opts.baseUrl,
      waitClock: opts.sleep ? clock : systemClock,
      logger: this.logger,
      sleep: opts.sleep ?? realSleep,
      random: opts.random ?? Math.random,
      fetch: opts.fetch ?? globalThis.fetch,
      timeoutMs: opts.timeoutMs ?? 60_000,
      retry,
      requestsPerSecond: opts.requestsPerSecond,
      maxConcurrentRequests: opts.maxConcurrentRequests,
      userAgent: opts.userAgent ?? 'cdrpipe',
    });
    this.authProvider = createAuthProvider(opts.auth, this.transport, clock, this.logger, opts.tokenRefreshMarginSeconds);
  }

  /** Validates the options (base URL, zone, retry settings) and builds a client; sends nothing yet. */
  static create(opts: NetSapiensClientOptions): NetSapiensClient {
    try {
      return new NetSapiensClient(opts);
    } catch (err) {
      if (err instanceof TypeError || err instanceof RangeError) throw new UsageError(err.message);
      throw err;
    }
  }

  stats(): SourceStats {
    return this.transport.stats();
  }

  /** Token requests sent so far (OAuth only; zeros for a static key). */
  tokenRequests(): { password: number; refresh: number } {
    return this.authProvider instanceof OAuthTokenProvider ? { ...this.authProvider.counts } : { password: 0, refresh: 0 };
  }

  /** Every domain the credentials can see, paged 1000 at a time. Unusable entries are logged and left out. */
  async listDomains(opts?: CallOptions): Promise<DomainInfo[]> {
    const signal = this.signalFor(opts);
    const out: DomainInfo[] = [];
    for (let start = 0; ; start += MAX_PAGE_SIZE) {
      const page = await this.transport.request({
        method: 'GET',
        path: '/domains',
        query: { start, limit: MAX_PAGE_SIZE },
        auth: this.authProvider,
        parse: parseDomainPage,
        signal,
      });
      for (const s of page.skipped)
        this.logger.warn({ reason: s.reason, raw: s.rawText.slice(0, 300) }, 'NetSapiens domain list: entry skipped');
      out.push(...page.domains);
      if (page.received > MAX_PAGE_SIZE) throw this.ignoredLimit('/domains', page.received, MAX_PAGE_SIZE);
      if (page.received < MAX_PAGE_SIZE) return out;
    }
  }

  async countDomains(opts?: CallOptions): Promise<number> {
    return this.transport.request({
      method: 'GET',
      path: '/domains/count',
      auth: this.authProvider,
      parse: (body) => {
        const total = countField(parseJsonObject(body, 'domain count'), 'total');
        if (total === undefined) throw new BodyShapeError('domain count has no non-negative integer "total"');
        return total;
      },
      signal: this.signalFor(opts),
    });
  }

  credentialScope(): CredentialScope {
    return this.scope;
  }

  /** The server's own count of the window (its datetime-end may be inclusive; see docs/client.md). */
  async countCdrs(domain: string, window: TimeWindow, opts?: CallOptions): Promise<CdrCount> {
    return this.count(`${domainPath(domain)}/cdrs/count`, window, opts);
  }

  /** The reseller-wide count of the window: every domain the credentials see. */
  async countAllCdrs(window: TimeWindow, opts?: CallOptions): Promise<CdrCount> {
    return this.count('/cdrs/count', window, opts);
  }

  private async count(path: string, window: TimeWindow, opts?: CallOptions): Promise<CdrCount> {
    return this.transport.request({
      method: 'GET',
      path,
      query: windowQuery(window),
      auth: this.authProvider,
      parse: (body) => {
        const o = parseJsonObject(body, 'CDR count');
        const total = countField(o, 'total');
        const seconds = countField(o, 'seconds');
        if (total === undefined || seconds === undefined)
          throw new BodyShapeError('CDR count lacks non-negative integers "total" and "seconds"');
        return { total, seconds, minutes: countField(o, 'minutes') ?? Math.ceil(seconds / 60) };
      },
      signal: this.signalFor(opts),
    });
  }

  async fetchCdrPage(domain: string, window: TimeWindow, offset: number, limit: number, opts?: CallOptions): Promise<CdrPage> {
    return this.page(`${domainPath(domain)}/cdrs`, domain, window, offset, limit, opts);
  }

  /** One page of the reseller-wide `/cdrs`: `page.domain` is ALL_DOMAINS, each record names its own `domain`. */
  async fetchAllCdrPage(window: TimeWindow, offset: number, limit: number, opts?: CallOptions): Promise<CdrPage> {
    return this.page('/cdrs', ALL_DOMAINS, window, offset, limit, opts);
  }

  private async page(
    path: string,
    domain: string,
    window: TimeWindow,
    offset: number,
    limit: number,
    opts?: CallOptions,
  ): Promise<CdrPage> {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new UsageError(`CDR page offset must be a non-negative integer, got ${offset}`);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
      throw new UsageError(`CDR page size must be 1..${MAX_PAGE_SIZE} (the API's maximum), got ${limit}`);
    }
    const page = await this.transport.request({
      method: 'GET',
      path,
      query: { ...windowQuery(window), start: offset, limit },
      auth: this.authProvider,
      parse: (body) => parseCdrPage(body, { domain, window, offset, limit, bareZone: this.bareZone }),
      parseBytes: (bytes) => parseCdrPageBytes(bytes, { domain, window, offset, limit, bareZone: this.bareZone }),
      signal: this.signalFor(opts),
    });
    if (page.received > limit) throw this.ignoredLimit(path, page.received, limit);
    return page;
  }

  /** Pages in order from offset 0; stops after the first page shorter than `pageSize` (default 1000). */
  async *listCdrs(domain: string, window: TimeWindow, opts?: CallOptions & { pageSize?: number }): AsyncIterable<CdrPage> {
    const limit = opts?.pageSize ?? MAX_PAGE_SIZE;
    for (let offset = 0; ; offset += limit) {
      const page = await this.fetchCdrPage(domain, window, offset, limit, opts);
      yield page;
      if (page.received < limit) return;
    }
  }

  private signalFor(opts: CallOptions | undefined): AbortSignal | undefined {
    const own = opts?.signal;
    if (own && this.clientSignal) return AbortSignal.any([own, this.clientSignal]);
    return own ?? this.clientSignal;
  }

  private ignoredLimit(path: string, received: number, limit: number): NetSapiensBodyError {
    // Paging by offset would skip or repeat records, so refuse rather than guess.
    return new NetSapiensBodyError(
      'GET',
      path,
      `server returned ${received} elements for limit=${limit}: it ignores paging, so results cannot be trusted`,
      1,
      '',
    );
  }
}

/** A static key's scope from its prefix (`nsr_`, `nss_`, `nsd_`); `unknown` without one. */
export function scopeOfKey(key: string): CredentialScope {
  if (key.startsWith('nsr_')) return 'reseller';
  if (key.startsWith('nss_')) return 'system';
  if (key.startsWith('nsd_')) return 'domain';
  return 'unknown';
}

/** `/domains/{domain}` with the name path-encoded; refuses names that would change the path. */
export function domainPath(domain: string): string {
  const unsafe = unsafeDomainReason(domain);
  if (unsafe !== null)
    throw new UsageError(`domain name ${JSON.stringify(domain)} ${unsafe}; expected a NetSapiens domain such as acme.example.com`);
  return `/domains/${encodeURIComponent(domain)}`;
}

/**
 * Both bounds, always (a start without an end is silently ignored by live servers), as RFC 3339
 * UTC to the second: start floored, end ceiled, so the request covers the whole window; records
 * outside [start, end) are filtered out client-side.
 */
export function windowQuery(window: TimeWindow): { 'datetime-start': string; 'datetime-end': string } {
  const s = window.start.getTime();
  const e = window.end.getTime();
  if (Number.isNaN(s) || Number.isNaN(e)) throw new UsageError('CDR window has an invalid date');
  if (!(s < e)) throw new UsageError(`CDR window is empty or reversed: [${window.start.toISOString()}, ${window.end.toISOString()})`);
  return { 'datetime-start': formatNsDatetime(window.start, 'floor'), 'datetime-end': formatNsDatetime(window.end, 'ceil') };
}
