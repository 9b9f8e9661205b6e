import type { CdrSource, SourceStats, TimeWindow } from '../source/index.ts';
import { recordAnomaly, type Anomaly, withState } from '../state/index.ts';
import type { Clock } from '../util/clock.ts';
import { redact } from '../util/errors.ts';
import type { Logger } from '../util/logger.ts';
import type { IngestAnomaly, IngestProgress, IngestSummary } from './ingest-summary.ts';
import { formatWindow } from './windows.ts';

export interface IngestEventsOptions {
  summary: IngestSummary;
  dataDir: string;
  source: CdrSource;
  /** The source's counters when the run began (progress reports this run's requests). */
  stats0: SourceStats;
  clock: Clock;
  logger: Logger;
  onProgress?: (p: IngestProgress) => void;
}

/**
 * Where the stages of an ingest run report what happened: failures and anomalies go into the
 * summary and the log (anomalies also into the state database), progress to the caller.
 */
export class IngestEvents {
  /** Windows planned so far (the halves of splits included): the progress total. */
  windowsKnown = 0;

  constructor(private readonly o: IngestEventsOptions) {}

  get summary(): IngestSummary {
    return this.o.summary;
  }

  /** Tells the caller how far the run is. */
  progress(phase: IngestProgress['phase']): void {
    const { onProgress, summary, source, stats0 } = this.o;
    if (!onProgress) return;
    onProgress({
      phase,
      done: summary.windows,
      total: this.windowsKnown,
      rows: summary.rowsFetched,
      requests: source.stats().requests - stats0.requests,
    });
  }

  /** Records a failed window (or a failed step of the run when `window` is undefined). */
  fail(domain: string, window: TimeWindow | undefined, err: unknown): void {
    const error = redact(err instanceof Error ? err.message : String(err));
    this.o.summary.failures.push({
      domain,
      ...(window ? { windowStart: window.start.toISOString(), windowEnd: window.end.toISOString() } : {}),
      error,
    });
    this.o.logger.error({ domain, window: window ? formatWindow(window) : undefined, err: error }, 'ingest window failed');
  }

  /** Records a completeness anomaly in the summary, the log and the state database. */
  async anomaly(a: Anomaly): Promise<void> {
    const row = anomalyRow(a);
    this.o.summary.anomalies.push(row);
    this.o.logger.warn(row, 'ingest completeness anomaly');
    await withState(this.o.dataDir, (db) => recordAnomaly(db, a, this.o.clock.now()));
  }
}

/** An anomaly as the summary reports it (JSON-serialisable). */
export function anomalyRow(a: Anomaly): IngestAnomaly {
  return {
    domain: a.domain,
    windowStart: a.windowStart.toISOString(),
    windowEnd: a.windowEnd.toISOString(),
    kind: a.kind,
    expected: a.expected,
    got: a.got,
    detail: a.detail,
  };
}
