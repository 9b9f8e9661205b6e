/**
 * Fault injection. Decisions come from a PRNG seeded by the fault seed and drawn once per
 * request in arrival order, so a sequential run is reproducible. Random faults never hit the
 * same request (method + path + query) more than `maxConsecutive` times in a row: a client that
 * retries always gets through eventually.
 */
import { Prng } from './prng.ts';
import type { DataFaults } from './cdr-store.ts';

export const ENDPOINT_NAMES = [
  'domains',
  'domains-count',
  'domain',
  'cdrs',
  'cdrs-count',
  'reseller-cdrs',
  'reseller-cdrs-count',
  'users',
  'users-count',
  'phonenumbers',
  'tokens',
  'other',
] as const;
export type EndpointName = (typeof ENDPOINT_NAMES)[number];

export const FAULT_KINDS = ['latency', 'rate-limit', 'error', 'drop', 'truncate', 'token-expiry', 'late', 'update'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Faults of a run; `sim.setFaults()` replaces the whole set (pass `{}` to clear). */
export interface FaultOptions extends DataFaults {
  /** Seed of the per-request fault sequence; default 1. */
  seed?: number;
  /** Fixed delay before every response, in ms. */
  latencyMs?: number;
  /** Requests per (wall-clock) second above which the server answers 429 with `Retry-After`. */
  rateLimit?: {
    requestsPerSecond: number;
    /** `Retry-After` in seconds; default 1. 0 is allowed (tests). */
    retryAfterSeconds?: number;
    /** Send `Retry-After` as an HTTP date instead of seconds. */
    httpDate?: boolean;
  };
  /** Share (0..1) of requests answered with one of `errorStatuses`. */
  errorRate?: number;
  /** Default [500, 502, 503]. */
  errorStatuses?: number[];
  /** Share of requests whose connection is destroyed halfway through the response body. */
  dropRate?: number;
  /** Share of 200 responses whose JSON body is cut off (complete HTTP message, broken JSON). */
  truncateRate?: number;
  /** Invalidate every OAuth access token issued so far, once, at a request count or a clock time. */
  tokenExpiry?: { afterRequests?: number; at?: Date };
  /** Most times in a row one request may be faulted by error/drop/truncate; default 2. */
  maxConsecutive?: number;
  /** Endpoints the random faults (rate limit, error, drop, truncate) apply to; default all but `tokens`. */
  endpoints?: EndpointName[];
  /**
   * CDR answers that disagree with the store, as a misbehaving PBX gives them: every CDR listing
   * of the domain (all domains when `domain` is left out) ends after `listKeep` records of its
   * query, and every CDR count of it answers `countTotal`. Either alone makes a short (or empty)
   * list or an inflated count; both at 0 make an empty answer.
   */
  answers?: { domain?: string; listKeep?: number; countTotal?: number };
}

export type FaultDecision =
  | { kind: 'none' }
  | { kind: 'rate-limit'; retryAfter: string }
  | { kind: 'error'; status: number }
  | { kind: 'drop' }
  | { kind: 'truncate' };

const DEFAULT_ENDPOINTS: readonly EndpointName[] = ENDPOINT_NAMES.filter((e) => e !== 'tokens');

export class FaultEngine {
  private opts: FaultOptions = {};
  private rng = new Prng(1);
  private consecutive = new Map<string, number>();
  private windowSecond = -1;
  private windowCount = 0;
  private tokenExpiryFired = false;
  readonly injected: Record<FaultKind, number> = {
    latency: 0,
    'rate-limit': 0,
    error: 0,
    drop: 0,
    truncate: 0,
    'token-expiry': 0,
    late: 0,
    update: 0,
  };

  constructor(
    opts: FaultOptions = {},
    private readonly wallNow: () => number = Date.now,
  ) {
    this.set(opts);
  }

  /** Replaces the fault set and restarts the fault sequence from its seed. */
  set(opts: FaultOptions): void {
    for (const [name, v] of [
      ['errorRate', opts.errorRate],
      ['dropRate', opts.dropRate],
      ['truncateRate', opts.truncateRate],
      ['late.share', opts.late?.share],
      ['updates.share', opts.updates?.share],
    ] as const) {
      if (v !== undefined && !(v >= 0 && v <= 1)) throw new Error(`fault ${name} must be a share between 0 and 1, got ${v}`);
    }
    if ((opts.errorRate ?? 0) + (opts.dropRate ?? 0) + (opts.truncateRate ?? 0) > 1) {
      throw new Error('fault errorRate + dropRate + truncateRate must not exceed 1');
    }
    const keep = opts.answers?.listKeep;
    if (keep !== undefined && !(Number.isInteger(keep) && keep >= 0))
      throw new Error(`fault answers.listKeep must be a whole number >= 0, got ${keep}`);
    this.opts = { ...opts };
    this.rng = new Prng(opts.seed ?? 1);
    this.consecutive.clear();
    this.tokenExpiryFired = false;
  }

  get options(): FaultOptions {
    return this.opts;
  }

  get latencyMs(): number {
    return this.opts.latencyMs ?? 0;
  }

  dataFaults(): DataFaults {
    const out: DataFaults = {};
    if (this.opts.late) out.late = this.opts.late;
    if (this.opts.updates) out.updates = this.opts.updates;
    return out;
  }

  /** Records a CDR listing of `domain` may return at most (from its first record), or undefined for all. */
  listKeep(domain: string): number | undefined {
    const a = this.opts.answers;
    return a && (a.domain === undefined || a.domain === domain) ? a.listKeep : undefined;
  }

  /** The total a CDR count of `domain` answers instead of the truth, or undefined for the truth. */
  countTotal(domain: string): number | undefined {
    const a = this.opts.answers;
    return a && (a.domain === undefined || a.domain === domain) ? a.countTotal : undefined;
  }

  /** True exactly once, when the token-expiry fault is due. */
  tokenExpiryDue(requestCount: number, nowMs: number): boolean {
    const te = this.opts.tokenExpiry;
    if (!te || this.tokenExpiryFired) return false;
    const due = (te.afterRequests !== undefined && requestCount >= te.afterRequests) || (te.at !== undefined && nowMs >= te.at.getTime());
    if (due) {
      this.tokenExpiryFired = true;
      this.injected['token-expiry']++;
    }
    return due;
  }

  /** Decides the fate of one request. `key` identifies "the same request" across retries. */
  decide(endpoint: EndpointName, key: string): FaultDecision {
    // One draw per request whatever happens, so the sequence depends only on request order.
    const r = this.rng.next();
    const pickStatus = this.rng.next();
    const applies = (this.opts.endpoints ?? DEFAULT_ENDPOINTS).includes(endpoint);
    if (!applies) return { kind: 'none' };
    const rl = this.opts.rateLimit;
    if (rl) {
      const now = this.wallNow();
      const second = Math.floor(now / 1000);
      if (second !== this.windowSecond) {
        this.windowSecond = second;
        this.windowCount = 0;
      }
      if (this.windowCount >= rl.requestsPerSecond) {
        this.injected['rate-limit']++;
        const secs = rl.retryAfterSeconds ?? 1;
        return { kind: 'rate-limit', retryAfter: rl.httpDate ? new Date(now + secs * 1000).toUTCString() : String(secs) };
      }
      this.windowCount++;
    }
    const err = this.opts.errorRate ?? 0;
    const drop = this.opts.dropRate ?? 0;
    const trunc = this.opts.truncateRate ?? 0;
    let decision: FaultDecision = { kind: 'none' };
    if (r < err) {
      const statuses = this.opts.errorStatuses ?? [500, 502, 503];
      decision = { kind: 'error', status: statuses[Math.floor(pickStatus * statuses.length)] ?? 500 };
    } else if (r < err + drop) decision = { kind: 'drop' };
    else if (r < err + drop + trunc) decision = { kind: 'truncate' };
    if (decision.kind === 'none') {
      this.consecutive.delete(key);
      return decision;
    }
    const n = this.consecutive.get(key) ?? 0;
    if (n >= (this.opts.maxConsecutive ?? 2)) {
      this.consecutive.delete(key);
      return { kind: 'none' };
    }
    this.consecutive.set(key, n + 1);
    this.injected[decision.kind]++;
    return decision;
  }
}
