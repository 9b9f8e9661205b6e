import { byteSpansByParsing, isPlainRecord, recordBoundaries } from '../lake/index.ts';
import type { CdrPage, RejectedRecord } from '../source/index.ts';

/**
 * Routing of reseller-wide pages: each record goes to the domain its `domain` field names, when
 * that is one of the run's domains; anything else is quarantined (a reject with its text), never
 * used to name a partition. Pure apart from the byte slices it keeps of the page bodies.
 */

/** One domain's records of a reseller-wide window, gathered page by page. */
export interface DomainShare {
  /** By id: the record's bytes as sent, and the offset of the page it came on (the later page wins a repeat). */
  records: Map<string, { bytes: Buffer; offset: number }>;
  /** Records whose id came earlier in the window (the list answered them; the lake keeps one copy). */
  repeats: number;
  /** Every record is plain (lake/plain-record.ts): the writer may use its cheaper SQL. */
  plain: boolean;
}

/** What a window's pages held, routed. */
export interface RoutedWindow {
  shares: Map<string, DomainShare>;
  /**
   * Records whose `domain` is text but not a domain of the run, by that text: a domain created
   * since the run's domain list was fetched, or a name to quarantine (the reader decides, once it
   * has asked the API's list again). Never used as a path before that.
   */
  unlisted: Map<string, DomainShare>;
  /** Records naming no domain of the run (missing, not text, unknown, or not selected). */
  quarantined: RejectedRecord[];
}

export function emptyRouted(): RoutedWindow {
  return { shares: new Map(), unlisted: new Map(), quarantined: [] };
}

/** Why a record's `domain` does not route it, or undefined when it names one of `domains`. */
export function unroutableReason(value: unknown, domains: ReadonlySet<string>): string | undefined {
  if (typeof value !== 'string') return `domain: the reseller-wide list sent ${value === undefined ? 'no domain' : `a ${typeof value}`}`;
  if (domains.has(value)) return undefined;
  return `domain: ${JSON.stringify(value.slice(0, 100))} is not one of the domains this run reads (unknown to the domain list, or not usable as a partition name)`;
}

/**
 * Adds a page's valid in-window records to the shares of their domains (to `unlisted` when the
 * run does not know the domain, to the quarantine when the record names none).
 * The bytes are cut out of the body as received, so the lake keeps each record exactly as sent.
 */
export function routePage(page: CdrPage, domains: ReadonlySet<string>, into: RoutedWindow): void {
  if (page.records.length === 0) return;
  const bytes = page.bytes ?? Buffer.from(page.body, 'utf8');
  const spans =
    page.spans ?? (page.elementsAreObjects ? (recordBoundaries(bytes, page.received) ?? byteSpansByParsing(page.body)) : undefined);
  for (let k = 0; k < page.records.length; k++) {
    const record = page.records[k]!;
    const index = page.recordIndexes[k]!;
    const recordBytes = spans ? bytes.subarray(spans[2 * index], spans[2 * index + 1]) : Buffer.from(JSON.stringify(record), 'utf8');
    if (typeof record.domain !== 'string') {
      into.quarantined.push({
        domain: page.domain,
        reason: unroutableReason(record.domain, domains)!,
        rawText: recordBytes.toString('utf8'),
      });
      continue;
    }
    const domain = record.domain;
    const target = domains.has(domain) ? into.shares : into.unlisted;
    let share = target.get(domain);
    if (!share) {
      share = { records: new Map(), repeats: 0, plain: true };
      target.set(domain, share);
    }
    const id = page.cdrs[k]!.id;
    const prior = share.records.get(id);
    if (prior) share.repeats++;
    if (!prior || prior.offset <= page.offset) share.records.set(id, { bytes: recordBytes, offset: page.offset });
    if (share.plain && !isPlainRecord(record)) share.plain = false;
  }
}
