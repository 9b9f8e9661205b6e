/**
 * The shapes `cdrpipe reconcile` reads and produces; every figure is defined in docs/reconcile.md.
 */
import type { CdrSource } from '../source/index.ts';
import type { Month } from '../util/month.ts';
import type { StageContext } from '../config/index.ts';

export interface ReconcileOptions extends StageContext {
  source: CdrSource;
  /** The customers' local month, YYYY-MM. */
  month: Month;
  /** Only these domains; default every domain the API lists plus any the lake holds for the month. */
  domains?: string[];
}

export interface ClassTotal {
  call_class: string;
  calls: number;
  billable_s: number;
  charge: string;
}

/** One domain's reconciliation. Counts and seconds are whole numbers; money is decimal text. */
export interface ReconcileRow {
  month: Month;
  domain: string;
  timeZone: string;
  /** Local midnight of the 1st, as a UTC instant (ISO). */
  windowStart: string;
  /** Local midnight of the next 1st (exclusive); for the month in progress, the domain's ingest watermark (or now). */
  windowEnd: string;
  /** The month has not ended yet: figures are month to date, up to windowEnd. */
  monthToDate: boolean;
  apiTotal: number;
  apiSeconds: number;
  /** Distinct CDR ids in the lake for the window. */
  lakeTotal: number;
  /** Sum of duration_s over those CDRs (latest version of each). */
  lakeSeconds: number;
  /** Lake rows for the window, duplicates included. */
  lakeRows: number;
  /** Ids present more than once in the lake for the window. */
  duplicateIds: number;
  /** Distinct rejected records whose fetch window overlaps this month. */
  rejects: number;
  /** Unresolved completeness anomalies whose window overlaps this month. */
  openAnomalies: number;
  /** From the warehouse (as of the last transform); null when there is no warehouse or no calls. */
  billedCharge: string | null;
  billedS: number | null;
  currency: string | null;
  byClass: ClassTotal[];
  status: 'ok' | 'off';
  /** Why it is off (or notes when ok), in words. */
  detail: string;
}

export interface ReconcileResult {
  month: Month;
  checkedAt: string;
  rows: ReconcileRow[];
  /** Domains that do not reconcile, with the reason. */
  off: { domain: string; detail: string }[];
  /** Number of domains checked. */
  domains: number;
  ok: boolean;
  csvPath: string;
  /** API requests made (the domain list, two counts per domain, more when a call starts exactly at a month end). */
  requests: number;
}
