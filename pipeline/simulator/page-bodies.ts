/**
 * API page bodies without HTTP: exactly the bytes `GET /domains/{d}/cdrs` would send for each
 * page of a window, for benchmarks and loaders that want realistic input files fast.
 */
import { CdrStore, renderEntries } from './cdr-store.ts';
import { generateDomains, type DomainProfile } from './domain-gen.ts';
import { CANONICAL_FORMAT, type DatetimeFormat } from './datetime-format.ts';

export interface PageBodyOptions {
  seed: number;
  /** Generated domains (`generateDomains({ seed, count })`) or profiles of your own. */
  domains: number | DomainProfile[];
  volume?: number;
  /** Calls starting in [start, end) (the server's inclusive end is not applied here). */
  window: { start: Date; end: Date };
  /** Records per page; default 1000 (the API's maximum). */
  pageSize?: number;
  /** Datetime form of the bodies; default `...Z`. */
  format?: DatetimeFormat;
  /** The "now" deciding visibility; default five hours after the window end (generated calls last at most about four), so every call is there. */
  now?: Date;
}

/** One page body with where it belongs. */
export interface PageBody {
  domain: string;
  /** The `start` offset of this page. */
  offset: number;
  records: number;
  /** A UTF-8 JSON array, as the API sends it. */
  body: Buffer;
}

/** Yields every page of every domain in order; the last page of a domain is short (possibly empty). */
export function* pageBodies(opts: PageBodyOptions): Generator<PageBody> {
  const profiles = typeof opts.domains === 'number' ? generateDomains({ seed: opts.seed, count: opts.domains }) : opts.domains;
  const store = new CdrStore({
    seed: opts.seed,
    volume: opts.volume ?? 1,
    dataFromMs: -Infinity,
    dataToMs: Infinity,
    maxCachedRecords: 50_000,
  });
  for (const p of profiles) store.addDomain({ ...p });
  const pageSize = opts.pageSize ?? 1000;
  const range = { fromMs: opts.window.start.getTime(), toMs: opts.window.end.getTime(), endInclusive: false };
  const vis = { nowMs: opts.now?.getTime() ?? opts.window.end.getTime() + 5 * 3_600_000 };
  for (const p of profiles) {
    for (let offset = 0; ; offset += pageSize) {
      const entries = store.select(p.domain, range, vis, offset, pageSize);
      yield { domain: p.domain, offset, records: entries.length, body: renderEntries(entries, opts.format ?? CANONICAL_FORMAT) };
      if (entries.length < pageSize) break;
    }
  }
}
