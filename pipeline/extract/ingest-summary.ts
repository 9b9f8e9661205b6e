/** What `runIngest` reports: JSON-serialisable, stored with the run by the scheduler. */
export interface IngestSummary {
  runId: string;
  mode: 'incremental' | 'backfill';
  /** Backfill range as requested (ISO), absent for incremental runs. */
  range?: { from: string; to: string };
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

/** Some windows could not be fetched or written; everything else was flushed. */
export class IngestIncompleteError extends Error {
  override readonly name = 'IngestIncompleteError';
  readonly exitCode = 1 as const;
  constructor(readonly summary: IngestSummary) {
    const first = summary.failures[0];
    super(
      `ingest finished with ${summary.failures.length} failed window(s)` +
        (first ? `; first: domain ${JSON.stringify(first.domain)} ${first.windowStart ?? ''}..${first.windowEnd ?? ''}: ${first.error}` : '') +
        '. Completed partitions were written and their watermarks moved; re-run `cdrpipe ingest` to retry the rest.',
    );
  }
}

/** The summary as lines for a terminal. */
export function formatIngestSummary(s: IngestSummary): string {
  const lines = [
    `ingest ${s.mode}${s.range ? ` [${s.range.from}, ${s.range.to})` : ''}${s.interrupted ? ' (interrupted)' : ''}`,
    `  domains     ${s.domains}`,
    `  windows     ${s.windows} (${s.windowsEmpty} empty, ${s.windowsSplit} split, ${s.refetches} re-fetched)`,
    `  requests    ${s.requests} (${s.retries} retries${Object.keys(s.retriesByReason).length ? ': ' + Object.entries(s.retriesByReason).map(([k, v]) => `${k} ${v}`).join(', ') : ''})`,
    `  rows        ${s.rowsFetched} fetched, ${s.rowsWritten} written in ${s.partitionsWritten} partition(s), ${s.partitionsUnchanged} partition(s) unchanged`,
    `  rejects     ${s.rejects}${s.rejects > 0 && s.rejectsNew !== undefined ? ` (${s.rejectsNew} new)` : ''}${s.rejectsFile ? ` -> ${s.rejectsFile}` : ''}`,
    `  anomalies   ${s.anomalies.length}`,
    ...s.anomalies.map((a) => `    ${a.domain} [${a.windowStart}, ${a.windowEnd}) ${a.kind}: expected ${a.expected ?? '?'} got ${a.got ?? '?'}${a.detail ? ` (${a.detail})` : ''}`),
    ...(s.skippedDomains.length ? [`  skipped     ${s.skippedDomains.map((d) => JSON.stringify(d.domain)).join(', ')} (not usable as a partition name)`] : []),
    ...(s.failures.length ? [`  failures    ${s.failures.length}`, ...s.failures.slice(0, 10).map((f) => `    ${f.domain} ${f.windowStart ?? ''} ${f.error}`)] : []),
    `  elapsed     ${(s.elapsedMs / 1000).toFixed(1)} s`,
  ];
  return lines.join('\n');
}
