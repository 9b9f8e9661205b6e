import { CdrpipeError } from '../util/errors.ts';
import type { DomainListUse } from './domain-list.ts';

/** What `runIngest` reports: JSON-serialisable, stored with the run by the scheduler. */
export interface IngestSummary {
  runId: string;
  mode: 'incremental' | 'backfill';
  /** Backfill range as read (ISO), absent for incremental runs. */
  range?: { from: string; to: string };
  /** The `--to` asked for, when it lay past now minus the settle time and `range.to` was clamped to that. */
  clampedFrom?: string;
  /** Stored rows the API no longer lists were removed where confirmed (`ingest --prune`). */
  prune: boolean;
  domains: number;
  /** Windows finished (counted, and fetched when not empty), including the halves of splits. */
  windows: number;
  windowsEmpty: number;
  windowsSplit: number;
  /** Windows fetched a second time because rows did not match the count. */
  refetches: number;
  /** HTTP requests this run made (counts, pages, domains), retries included. */
  requests: number;
  retries: number;
  retriesByReason: Record<string, number>;
  /** Distinct CDRs fetched and stored for the ranges of this run. */
  rowsFetched: number;
  /** Rows in partitions that were rewritten (an unchanged range rewrites nothing). */
  rowsWritten: number;
  /** Same as rowsWritten: the name every stage summary uses. */
  rows: number;
  /** Stored rows in this run's ranges that the API did not list again: kept (anomaly `not-listed`). */
  rowsNotListed: number;
  /** Rows `prune` moved from lake/cdrs to lake/removed/. */
  rowsRemoved: number;
  removedFiles: string[];
  partitionsWritten: number;
  partitionsUnchanged: number;
  /** Records refused by validation in this run (the same bad record counts again in every run that fetches it). */
  rejects: number;
  /** Of those, how many lake/rejects did not hold yet (only these are written). */
  rejectsNew?: number;
  rejectsFile?: string;
  outOfWindow: number;
  anomalies: IngestAnomaly[];
  failures: IngestFailure[];
  /** Domains whose name cannot be a lake partition (`.`, `..`, empty): never fetched. */
  skippedDomains: { domain: string; reason: string }[];
  /** True when the run was aborted before every window was taken. */
  interrupted: boolean;
  /**
   * Incremental runs: whether the shared range was read through the reseller-wide `/cdrs` (and
   * how many of its windows, and how many domains also read an older part alone), or why not.
   */
  resellerWide?: { used: boolean; reason?: string; windows: number; domainsReadAlone: number };
  /** Where the run's domain list came from: the list a recent run stored, or `GET /domains` (and why). */
  domainList?: DomainListUse;
  /** Watermarks after the run, by domain (ISO). */
  watermarks: Record<string, string>;
  elapsedMs: number;
}

export interface IngestAnomaly {
  domain: string;
  windowStart: string;
  windowEnd: string;
  kind: string;
  expected: number | null;
  got: number | null;
  detail: string | null;
}

export interface IngestFailure {
  domain: string;
  windowStart?: string;
  windowEnd?: string;
  error: string;
}

/** Progress as the CLI bar and the scheduler's JobProgress read it. */
export interface IngestProgress {
  phase: 'domains' | 'windows' | 'done';
  /** Windows finished / known so far (splits add windows as they happen). */
  done: number;
  total: number;
  rows: number;
  requests: number;
}

/**
 * Some windows could not be fetched or written, or their answers were suspicious (anomalies);
 * everything else was flushed, and no stored row was removed because of them.
 */
export class IngestIncompleteError extends CdrpipeError {
  override readonly name = 'IngestIncompleteError';
  constructor(readonly summary: IngestSummary) {
    const first = summary.failures[0];
    const parts: string[] = [];
    if (summary.failures.length > 0) {
      parts.push(
        `${summary.failures.length} failed window(s)` +
          (first
            ? ` (first: domain ${JSON.stringify(first.domain)} ${first.windowStart ?? ''}..${first.windowEnd ?? ''}: ${first.error})`
            : ''),
      );
    }
    if (summary.anomalies.length > 0) {
      const shown = summary.anomalies.slice(0, 5).map((a) => `${a.kind} ${JSON.stringify(a.domain)} [${a.windowStart}, ${a.windowEnd})`);
      parts.push(
        `${summary.anomalies.length} anomal${summary.anomalies.length === 1 ? 'y' : 'ies'}: ${shown.join('; ')}${summary.anomalies.length > 5 ? '; ...' : ''}`,
      );
    }
    super(
      `ingest finished with ${parts.join(' and ')}. ` +
        'Completed ranges were written (stored rows kept) and watermarks moved only past windows that matched their count; ' +
        'see `cdrpipe status` for the anomalies, and re-run `cdrpipe ingest` for those windows once the API answers in full.',
    );
  }
}

function readPathLine(r: NonNullable<IngestSummary['resellerWide']>): string {
  if (!r.used) return `per domain (reseller-wide /cdrs not used: ${r.reason ?? 'unknown reason'})`;
  const alone = r.domainsReadAlone > 0 ? `; ${r.domainsReadAlone} domain(s) also read an older range alone` : '';
  return `reseller-wide /cdrs, ${r.windows} window(s), records routed by their domain${alone}`;
}

/** The summary as lines for a terminal. */
export function formatIngestSummary(s: IngestSummary): string {
  const lines = [
    `ingest ${s.mode}${s.range ? ` [${s.range.from}, ${s.range.to})` : ''}${s.prune ? ' (prune)' : ''}${s.interrupted ? ' (interrupted)' : ''}`,
    ...(s.clampedFrom ? [`  clamped     --to ${s.clampedFrom} is past now minus the settle time: read up to ${s.range?.to ?? '?'}`] : []),
    `  domains     ${s.domains}`,
    ...(s.domainList
      ? [
          `  domain list ${s.domainList.source === 'stored' ? `stored, fetched ${s.domainList.fetchedAt}` : `GET /domains (${s.domainList.reason ?? 'asked'})`}`,
        ]
      : []),
    ...(s.resellerWide ? [`  read        ${readPathLine(s.resellerWide)}`] : []),
    `  windows     ${s.windows} (${s.windowsEmpty} empty, ${s.windowsSplit} split, ${s.refetches} re-fetched)`,
    `  requests    ${s.requests} (${s.retries} retries${
      Object.keys(s.retriesByReason).length
        ? ': ' +
          Object.entries(s.retriesByReason)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')
        : ''
    })`,
    `  rows        ${s.rowsFetched} fetched, ${s.rowsWritten} written in ${s.partitionsWritten} partition(s), ${s.partitionsUnchanged} partition(s) unchanged`,
    ...(s.rowsNotListed > 0 ? [`  not listed  ${s.rowsNotListed} stored row(s) the API did not list: kept`] : []),
    ...(s.rowsRemoved > 0 ? [`  removed     ${s.rowsRemoved} row(s) the API no longer lists -> lake/removed/`] : []),
    `  rejects     ${s.rejects}${s.rejects > 0 && s.rejectsNew !== undefined ? ` (${s.rejectsNew} new)` : ''}${s.rejectsFile ? ` -> ${s.rejectsFile}` : ''}`,
    `  anomalies   ${s.anomalies.length}`,
    ...s.anomalies.map(
      (a) =>
        `    ${a.domain} [${a.windowStart}, ${a.windowEnd}) ${a.kind}: expected ${a.expected ?? '?'} got ${a.got ?? '?'}${a.detail ? ` (${a.detail})` : ''}`,
    ),
    ...(s.skippedDomains.length
      ? [`  skipped     ${s.skippedDomains.map((d) => JSON.stringify(d.domain)).join(', ')} (not usable as a partition name)`]
      : []),
    ...(s.failures.length
      ? [`  failures    ${s.failures.length}`, ...s.failures.slice(0, 10).map((f) => `    ${f.domain} ${f.windowStart ?? ''} ${f.error}`)]
      : []),
    `  elapsed     ${(s.elapsedMs / 1000).toFixed(1)} s`,
  ];
  return lines.join('\n');
}
