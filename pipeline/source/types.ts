/**
 * The boundary between the NetSapiens source layer and everything downstream. The extract stage
 * depends on these types only, never on the HTTP details behind them.
 */

/** A half-open interval [start, end) on call-start-datetime. */
export interface TimeWindow {
  readonly start: Date;
  readonly end: Date;
}

/** `/domains/{d}/cdrs/count`: `minutes` is ceil(seconds / 60) of the summed seconds. */
export interface CdrCount {
  total: number;
  minutes: number;
  seconds: number;
}

/** A domain object as the API returns it, with the fields the pipeline relies on lifted out. */
export interface DomainInfo {
  domain: string;
  reseller: string | undefined;
  description: string | undefined;
  /** IANA name (or alias such as US/Pacific) from `time-zone`; undefined when the PBX has none. */
  timeZone: string | undefined;
  /** The whole object as received. */
  raw: Record<string, unknown>;
}

/** A record that failed validation: kept with its reason and raw text, never silently dropped. */
export interface RejectedRecord {
  domain: string;
  reason: string;
  rawText: string;
}

/** One page of `/domains/{d}/cdrs`. */
export interface CdrPage {
  domain: string;
  window: TimeWindow;
  /** The `start` offset this page was requested with. */
  offset: number;
  limit: number;
  /** Number of array elements the server returned (valid + rejected): a page shorter than `limit` is the last. */
  received: number;
  /** Records that passed validation, as parsed JSON objects (unknown fields kept). */
  records: Record<string, unknown>[];
  /** For each of `records`, its index among the body's array elements (the spool cuts it out of `body`). */
  recordIndexes: number[];
  /** True when every element of the body is a JSON object (what lets the spool find each one's text cheaply). */
  elementsAreObjects: boolean;
  rejects: RejectedRecord[];
  /**
   * The response body exactly as received (a JSON array): the spool cuts each record's bytes out
   * of it (`recordIndexes`). It holds every element the server sent, including rejects and
   * out-of-window records: a loader reading it whole must apply the same window filter and id
   * rules, or use `records` instead. Decoded on first read when the page was parsed from `bytes`.
   */
  readonly body: string;
  /** The body's bytes as received (UTF-8), when the page was parsed from them: the spool writes from these. */
  bytes?: Buffer;
  /** Where element i lies in `bytes` (`[start, end)` at 2i and 2i+1), with `bytes`. */
  spans?: readonly number[];
  /**
   * Valid records whose call-start-datetime fell outside [window.start, window.end) (servers may
   * treat datetime-end as inclusive). Dropped from `records`: they belong to a neighbouring window.
   */
  outOfWindow: number;
  /** `records[i]` with the fields the pipeline relies on lifted and typed (same order, same length). */
  cdrs: ParsedCdr[];
}

/** Inferred meaning of `call-direction` 0-3 (netsapiens-v2.md), as the lake's `direction` column spells it. */
export const CALL_DIRECTIONS = ['outbound', 'inbound', 'missed', 'internal'] as const;
export type CallDirection = (typeof CALL_DIRECTIONS)[number];

/** A validated CDR: typed copies of the fields the pipeline uses, plus the record as received. */
export interface ParsedCdr {
  /** `id` as a string (numeric ids are converted). */
  id: string;
  /** `call-start-datetime`. */
  startTime: Date;
  /** `call-answer-datetime`; null when absent, empty or not a datetime (e.g. `0000-00-00 00:00:00`). */
  answerTime: Date | null;
  /** `call-disconnect-datetime`, same rules. */
  endTime: Date | null;
  /** `call-total-duration-seconds` (numeric strings converted). */
  durationS: number;
  /** `call-talking-duration-seconds`; null when absent. */
  talkS: number | null;
  /** `call-on-hold-duration-seconds`; null when absent. */
  holdS: number | null;
  /** `call-direction` 0-3. */
  directionCode: 0 | 1 | 2 | 3;
  direction: CallDirection;
  /** `call-orig-user`, `call-term-user` as text (numbers converted), null when absent. */
  origUser: string | null;
  termUser: string | null;
  /** `call-orig-caller-id` as received (text). */
  callerNumber: string | null;
  /** Dialled digits: `call-orig-to-user`, else `call-orig-request-user`. */
  dialedNumber: string | null;
  /** The record exactly as parsed from JSON (the same object as `CdrPage.records[i]`). */
  raw: Record<string, unknown>;
}

export interface CallOptions {
  signal?: AbortSignal;
}

/** Counters a run reports in its summary. */
export interface SourceStats {
  requests: number;
  retries: number;
  /** By reason: 429, 5xx, network, timeout, 401. */
  retriesByReason: Record<string, number>;
}

/**
 * What a credential may read, as far as the client can tell before asking: a static key's prefix
 * says it (`nsr_` reseller, `nss_` system, `nsd_` domain); anything else is `unknown` (OAuth
 * tokens, keys without a prefix) and only a request tells.
 */
export type CredentialScope = 'reseller' | 'system' | 'domain' | 'unknown';

/** The domain that `CdrPage.domain` names on a page of the reseller-wide `/cdrs` (its records name their own). */
export const ALL_DOMAINS = '*';

/** What the pipeline needs from a NetSapiens v2 server (the real one or the simulator). */
export interface CdrSource {
  listDomains(opts?: CallOptions): Promise<DomainInfo[]>;
  countDomains(opts?: CallOptions): Promise<number>;
  countCdrs(domain: string, window: TimeWindow, opts?: CallOptions): Promise<CdrCount>;
  /** One page at a given offset (lets callers fetch the pages of a counted window concurrently). */
  fetchCdrPage(domain: string, window: TimeWindow, offset: number, limit: number, opts?: CallOptions): Promise<CdrPage>;
  /** Pages in order from offset 0 until a short page. */
  listCdrs(domain: string, window: TimeWindow, opts?: CallOptions & { pageSize?: number }): AsyncIterable<CdrPage>;
  /** The reseller-wide `/cdrs/count`: every domain the credentials see, in one count. */
  countAllCdrs?(window: TimeWindow, opts?: CallOptions): Promise<CdrCount>;
  /** One page of the reseller-wide `/cdrs` (same paging and order as a domain's; each record carries its `domain`). */
  fetchAllCdrPage?(window: TimeWindow, offset: number, limit: number, opts?: CallOptions): Promise<CdrPage>;
  /** The credentials' scope as far as it is known without a request. */
  credentialScope?(): CredentialScope;
  stats(): SourceStats;
}
