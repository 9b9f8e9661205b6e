/**
 * The NetSapiens v2 simulator: a loopback HTTP server with the endpoints the pipeline uses,
 * deterministic data from a seed, fault injection, and ground truth for tests.
 *
 *   const sim = await startSimulator({ seed: 7, domains: 20, clock });
 *   fetch(`${sim.url}/domains`, { headers: { authorization: 'Bearer x' } });
 *   sim.groundTruth('acmedental.pbx.example', { start, end });
 *   await sim.close();
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../util/clock.ts';
import type { Logger } from '../util/logger.ts';
import { AuthService, type OAuthConfig } from './auth.ts';
import { CdrStore, type CdrTotals } from './cdr-store.ts';
import { ResellerView } from './reseller-view.ts';
import { domainObject, generateDomains, profileForAddedDomain, type AddDomainSpec, type DomainProfile } from './domain-gen.ts';
import { FaultEngine, type FaultKind, type FaultOptions } from './faults.ts';
import { BASE_PATH, createRequestListener, type ServerContext, type SimulatorStats } from './http-server.ts';
import type { DatetimeFormat } from './datetime-format.ts';

export type { FaultOptions, FaultKind, EndpointName } from './faults.ts';
export type { OAuthConfig, CredentialScope } from './auth.ts';
export type { DatetimeFormat } from './datetime-format.ts';
export type { AddDomainSpec, DomainProfile, SimUser } from './domain-gen.ts';
export type { SimulatorStats } from './http-server.ts';
export type { CdrTotals } from './cdr-store.ts';
export { BASE_PATH, MAX_LIMIT, DEFAULT_LIMIT } from './http-server.ts';
export { FRAUD_SCENARIOS, fraudScenario } from './fraud-scenarios.ts';
export type { FraudScenario, FraudScenarioName, FraudScenarioSpec } from './fraud-scenarios.ts';
export { simulatedMonthRecords } from './month-records.ts';
export type { SimulatedMonthOptions } from './month-records.ts';
export { Prng } from './prng.ts';

export interface SimulatorOptions {
  /** 0 (default) picks a free port. The server listens on 127.0.0.1 only. */
  port?: number;
  /** Seed of all generated data; default 1. */
  seed?: number;
  /** Number of generated customer domains; default 20. */
  domains?: number;
  /** Generated calls start at or after this; default: the first of the month 13 months before the clock's now. */
  dataFrom?: Date;
  /** Generated calls start before this; default: none (calls keep coming as the clock moves; a call is visible once it has ended). */
  dataTo?: Date;
  /** Multiplies every domain's call volume; default 1. */
  volume?: number;
  /** Median calls per business day per domain before skew and `volume`; default 15. */
  medianCallsPerBusinessDay?: number;
  /** Decides visibility and token expiry; default the system clock. */
  clock?: Clock;
  /** Missing datetime-start/end answers 400 instead of returning unbounded history. */
  strict?: boolean;
  /** Accepted static keys. Undefined: any non-empty bearer is accepted. []: none (OAuth only). */
  apiKeys?: string[];
  /**
   * Domain-scoped keys (`nsd_…`) and the one domain each may read: such a key lists only that
   * domain, gets 403 on every other, and on the reseller-wide `/cdrs` like every domain key.
   * Accepted in addition to `apiKeys`.
   */
  domainKeys?: Record<string, string>;
  /** Serve the reseller-wide `/cdrs` and `/cdrs/count`; default true (false answers 404, as older servers do). */
  resellerEndpoints?: boolean;
  /** The OAuth client and user `POST /tokens` accepts; undefined accepts any non-empty credentials. */
  oauth?: OAuthConfig;
  /** Access-token lifetime when `oauth` does not set one; default 3600. */
  tokenTtlSeconds?: number;
  faults?: FaultOptions;
  /** Force every response's datetime form (otherwise the request's form is echoed). */
  forceDatetimeFormat?: DatetimeFormat;
  /** Records kept in the generated-day cache; default 200 000. */
  maxCachedRecords?: number;
  logger?: Logger;
}

export interface RunningSimulator {
  /** Base URL ending in /ns-api/v2, e.g. http://127.0.0.1:41234/ns-api/v2. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
  /** Replaces the fault set (pass {} to clear); the fault sequence restarts from its seed. */
  setFaults(faults: FaultOptions): void;
  /**
   * Exactly the records the API would return for `domain` with call-start-datetime in the
   * half-open [start, end), in their version visible at `asOf` (default: the clock's now), with
   * `...Z` datetimes, ordered by start then id.
   */
  groundTruth(domain: string, window: { start: Date; end: Date }, opts?: { asOf?: Date }): Record<string, unknown>[];
  /** Count, seconds and minutes of exactly the records `groundTruth` returns, without parsing them (cheap). */
  groundTruthCount(domain: string, window: { start: Date; end: Date }, opts?: { asOf?: Date }): CdrTotals;
  /** Totals for a calendar month in `timeZone` (default UTC; pass the domain's zone for a customer month). */
  monthTotals(
    domain: string,
    month: string,
    opts?: { timeZone?: string; asOf?: Date },
  ): CdrTotals & { byDirection: Record<'outbound' | 'inbound' | 'missed' | 'internal', number> };
  /** The domain objects as `GET /domains` returns them. */
  domains(): Record<string, unknown>[];
  /** The generator's view of each domain (users, DIDs, volume). */
  profiles(): DomainProfile[];
  addDomain(spec: AddDomainSpec): Record<string, unknown>;
  /** Adds (or replaces by id) exact records; datetimes in any accepted form. `visibleAt` delays them. */
  addCdrs(domain: string, records: Record<string, unknown>[], opts?: { visibleAt?: Date }): void;
  /** Replaces all of a domain's records (generated ones too) with exactly these. */
  setCdrs(domain: string, records: Record<string, unknown>[]): void;
  updateCdr(domain: string, id: string, patch: Record<string, unknown>): boolean;
  removeCdr(domain: string, id: string): boolean;
  stats(): SimulatorStats;
  /** Forces every response's datetime form from now on (undefined: echo the request's form again). */
  setDatetimeFormat(format: DatetimeFormat | undefined): void;
}

/** Default start of generated data: the first of the month 13 months before `now` (UTC). */
export function defaultDataFrom(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 13, 1));
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<RunningSimulator> {
  const clock = opts.clock ?? systemClock;
  const seed = opts.seed ?? 1;
  const dataFrom = opts.dataFrom ?? defaultDataFrom(clock.now());
  const store = new CdrStore({
    seed,
    volume: opts.volume ?? 1,
    dataFromMs: dataFrom.getTime(),
    dataToMs: opts.dataTo?.getTime() ?? Infinity,
    ...(opts.maxCachedRecords !== undefined ? { maxCachedRecords: opts.maxCachedRecords } : {}),
  });
  for (const p of generateDomains({
    seed,
    count: opts.domains ?? 20,
    ...(opts.medianCallsPerBusinessDay !== undefined ? { medianCallsPerBusinessDay: opts.medianCallsPerBusinessDay } : {}),
  })) {
    store.addDomain(p);
  }
  const faults = new FaultEngine(opts.faults ?? {});
  const auth = new AuthService({
    ...(opts.apiKeys ? { apiKeys: opts.apiKeys } : {}),
    ...(opts.domainKeys ? { domainKeys: opts.domainKeys } : {}),
    ...(opts.oauth ? { oauth: opts.oauth } : {}),
    ...(opts.tokenTtlSeconds !== undefined ? { tokenTtlSeconds: opts.tokenTtlSeconds } : {}),
    clock,
    seed,
  });
  const ctx: ServerContext = {
    store,
    reseller: new ResellerView(store),
    resellerEndpoints: opts.resellerEndpoints ?? true,
    auth,
    faults,
    clock,
    strict: opts.strict ?? false,
    forceDatetimeFormat: opts.forceDatetimeFormat,
    defaultDatetimeFormat: { kind: 'bare', separator: ' ' },
    counters: { requests: 0, byEndpoint: {}, byStatus: {} },
    logger: opts.logger,
  };
  const server = createServer({ keepAlive: true }, createRequestListener(ctx));
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}${BASE_PATH}`;
  opts.logger?.info({ url, seed, domains: store.profiles().length }, 'NetSapiens v2 simulator listening');
  const visAt = (asOf?: Date): { nowMs: number } & ReturnType<FaultEngine['dataFaults']> => ({
    nowMs: (asOf ?? clock.now()).getTime(),
    ...faults.dataFaults(),
  });
  const requireDomain = (domain: string): void => {
    if (!store.profile(domain)) throw new Error(`unknown simulator domain ${JSON.stringify(domain)}; see sim.domains()`);
  };

  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
    setFaults: (f) => faults.set(f),
    groundTruth: (domain, window, o = {}) => {
      requireDomain(domain);
      return store.records(domain, window.start.getTime(), window.end.getTime(), visAt(o.asOf));
    },
    groundTruthCount: (domain, window, o = {}) => {
      requireDomain(domain);
      return store.totals(domain, { fromMs: window.start.getTime(), toMs: window.end.getTime(), endInclusive: false }, visAt(o.asOf));
    },
    monthTotals: (domain, month, o = {}) => {
      requireDomain(domain);
      return store.monthTotals(domain, month, visAt(o.asOf), o.timeZone);
    },
    domains: () => store.profiles().map(domainObject),
    profiles: () => store.profiles(),
    addDomain: (spec) => {
      const profile = profileForAddedDomain({ ...spec, seed });
      store.addDomain(profile);
      return domainObject(profile);
    },
    addCdrs: (domain, records, o = {}) => store.addCdrs(domain, records, o),
    setCdrs: (domain, records) => store.setCdrs(domain, records),
    updateCdr: (domain, id, patch) => store.updateCdr(domain, id, patch),
    removeCdr: (domain, id) => store.removeCdr(domain, id),
    setDatetimeFormat: (format) => {
      ctx.forceDatetimeFormat = format;
    },
    stats: () => {
      const injected: Record<FaultKind, number> = {
        ...faults.injected,
        late: store.dataFaultHits.late,
        update: store.dataFaultHits.update,
      };
      return {
        requests: ctx.counters.requests,
        byEndpoint: { ...ctx.counters.byEndpoint },
        byStatus: { ...ctx.counters.byStatus },
        faultsInjected: injected,
      };
    },
  };
}
