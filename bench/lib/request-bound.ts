import type { TimeWindow } from '../../pipeline/source/types.ts';

/** Counts the CDRs that start in a window (ground truth from the simulator, not the client). */
export type CountOracle = (domain: string, window: TimeWindow) => Promise<number>;

/** Splits a window whose count is above the row budget into smaller windows (the ingest's rule). */
export type SplitRule = (window: TimeWindow, count: number) => TimeWindow[];

/** Halves a window: the rule a bisecting planner follows. */
export const bisect: SplitRule = (w) => {
  const mid = new Date(Math.floor((w.start.getTime() + w.end.getTime()) / 2 / 1000) * 1000);
  return [
    { start: w.start, end: mid },
    { start: mid, end: w.end },
  ];
};

export interface BoundInput {
  domain: string;
  /** A domain-month window, [first instant of the month, first instant of the next). */
  window: TimeWindow;
  rowBudget: number;
  pageSize: number;
  /** Windows are not split below this width (the planner's minWindowMinutes). */
  minWindowMs: number;
  split: SplitRule;
  count: CountOracle;
  /** Called with each request of the minimum set, in the order a client would need them. */
  onRequest?: (r: PlannedRequest) => void;
}

/** One request of the minimum set: a count of a window, or one page of a final window's list. */
export interface PlannedRequest {
  kind: 'count' | 'list';
  domain: string;
  /** ISO 8601 instants (the plan crosses process boundaries as JSON). */
  start: string;
  end: string;
  /** list: the page's offset. */
  offset?: number;
}

export interface RequestTally {
  counts: number;
  lists: number;
  windows: number;
  rows: number;
}

/**
 * The fewest requests that read one domain-month completely, by the bench's definition: one count
 * call for the month, one count call per window a split produces, and ceil(rows / pageSize) list
 * calls per final window (a counted window needs no trailing empty page).
 */
export async function minimumRequests(input: BoundInput): Promise<RequestTally> {
  const tally: RequestTally = { counts: 0, lists: 0, windows: 0, rows: 0 };
  const visit = async (w: TimeWindow): Promise<void> => {
    const n = await input.count(input.domain, w);
    tally.counts += 1;
    const at = { domain: input.domain, start: w.start.toISOString(), end: w.end.toISOString() };
    input.onRequest?.({ kind: 'count', ...at });
    const width = w.end.getTime() - w.start.getTime();
    if (n > input.rowBudget && width > input.minWindowMs) {
      for (const part of input.split(w, n)) await visit(part);
      return;
    }
    tally.windows += 1;
    tally.rows += n;
    tally.lists += Math.ceil(n / input.pageSize);
    for (let offset = 0; offset < n; offset += input.pageSize) input.onRequest?.({ kind: 'list', ...at, offset });
  };
  await visit(input.window);
  return tally;
}

export function addTallies(a: RequestTally, b: RequestTally): RequestTally {
  return { counts: a.counts + b.counts, lists: a.lists + b.lists, windows: a.windows + b.windows, rows: a.rows + b.rows };
}

/** (minimum requests / concurrency) x latency: no client can finish sooner against that API. */
export function lowerBoundMs(minimum: number, concurrency: number, latencyMs: number): number {
  return (minimum / concurrency) * latencyMs;
}
