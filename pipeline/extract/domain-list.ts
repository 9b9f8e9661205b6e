import type { LimitFunction } from 'p-limit';
import type { StageContext } from '../config/index.ts';
import type { LakeWriter } from '../lake/index.ts';
import type { CdrSource, DomainInfo } from '../source/index.ts';
import { withState, writeDomainList, type CachedDomainList } from '../state/index.ts';

/**
 * When an ingest pages `GET /domains` and when it reads the domains from the list the last
 * fetch stored in state. An incremental tick over thousands of domains otherwise spends a page
 * per 1,000 domains every 15 minutes on a list that changes a few times a month; records are
 * routed by their own `domain` field, so a domain created since is noticed by the first
 * reseller-wide record that names it (the list is then read again at once).
 */

/** Why a run asks the API for its domains, or undefined when the stored list serves. */
export function domainListRefreshReason(
  stored: CachedDomainList | undefined,
  now: Date,
  opts: { maxAgeMinutes: number; backfill: boolean },
): string | undefined {
  if (opts.backfill) return 'a backfill reads the current list';
  if (!stored) return 'no stored list';
  if (opts.maxAgeMinutes <= 0) return 'ingest.domainListMaxAgeMinutes is 0';
  const ageMs = now.getTime() - stored.fetchedAt.getTime();
  // A list from the future (a clock set back) is not trusted either.
  if (ageMs < 0) return 'the stored list is dated after now';
  if (ageMs >= opts.maxAgeMinutes * 60_000) return `the stored list is ${Math.floor(ageMs / 60_000)} min old`;
  return undefined;
}

/** How a run got its domains, as its summary reports it. */
export interface DomainListUse {
  /** `api`: paged `GET /domains` (and stored the answer); `stored`: the list a recent run fetched. */
  source: 'api' | 'stored';
  /** When the list the run used was fetched (ISO). */
  fetchedAt: string;
  /** Why the API was asked (absent when the stored list served). */
  reason?: string;
}

/**
 * One run's domain list: the stored one, or the API's (asked at most once per run, stored in
 * state and in lake/domains for the runs after it).
 */
export class DomainLists {
  private fetched: { domains: DomainInfo[]; at: Date } | undefined;
  private storedFetch = false;
  private refresh: Promise<string[]> | undefined;
  /** How the run got its list, once it asked the API. */
  use: DomainListUse | undefined;

  constructor(
    private readonly o: Pick<StageContext, 'dataDir' | 'clock'> & { source: CdrSource },
    private readonly limit: LimitFunction,
    private readonly signal: AbortSignal,
    private readonly stored: CachedDomainList | undefined,
  ) {}

  /** The run's domains: the stored list when it serves, else the API's. */
  async names(): Promise<string[]> {
    if (this.stored) return this.stored.domains;
    return (await this.fetch()).map((d) => d.domain);
  }

  /** Stores what the run fetched (lake/domains for the time zones, state for the next runs); a no-op otherwise. */
  async store(writer: LakeWriter): Promise<void> {
    if (!this.fetched || this.storedFetch) return;
    this.storedFetch = true;
    const { domains, at } = this.fetched;
    await writer.writeDomains(domains, at);
    await withState(this.o.dataDir, (db) =>
      writeDomainList(
        db,
        domains.map((d) => d.domain),
        at,
      ),
    );
  }

  /**
   * The API's list as of this run: asked now (and stored) unless the run already asked, so a run
   * reads `GET /domains` at most once whatever its records name.
   */
  refreshed(writer: LakeWriter): Promise<string[]> {
    this.refresh ??= (async () => {
      const domains = this.fetched?.domains ?? (await this.fetch());
      await this.store(writer);
      return domains.map((d) => d.domain);
    })();
    return this.refresh;
  }

  private async fetch(): Promise<DomainInfo[]> {
    const at = this.o.clock.now();
    const domains = await this.limit(() => this.o.source.listDomains({ signal: this.signal }));
    this.fetched = { domains, at };
    this.use = { source: 'api', fetchedAt: at.toISOString() };
    return domains;
  }
}
