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

/**
 * Round trips the minimum set of requests needs when counts must come back before what they
 * decide is known (a window's pages follow its count; a split's halves are counted after the
 * whole), `concurrency` in flight: counts first in every round (they unlock the rest), then
 * pages. `plan` is minimumRequests' `onRequest` order (each count before its halves and pages).
 * Without splits this is 1 + ceil(pages / concurrency).
 */
export function patternRounds(plan: readonly PlannedRequest[], concurrency: number): number {
  const ms = (iso: string) => Date.parse(iso);
  const counts = plan.filter((r) => r.kind === 'count');
  const key = (r: PlannedRequest) => `${r.start}/${r.end}`;
  // A count's parent: the narrowest earlier count whose window holds it (the window it halves).
  const children = new Map<string, PlannedRequest[]>();
  const roots: PlannedRequest[] = [];
  counts.forEach((c, i) => {
    let parent: PlannedRequest | undefined;
    for (let j = i - 1; j >= 0 && !parent; j--) {
      const p = counts[j]!;
      if (ms(p.start) <= ms(c.start) && ms(c.end) <= ms(p.end) && key(p) !== key(c)) parent = p;
    }
    if (parent) children.set(key(parent), [...(children.get(key(parent)) ?? []), c]);
    else roots.push(c);
  });
  const pages = new Map<string, number>();
  for (const r of plan) if (r.kind === 'list') pages.set(key(r), (pages.get(key(r)) ?? 0) + 1);
  let readyCounts = [...roots];
  let readyPages = 0;
  let rounds = 0;
  while (readyCounts.length > 0 || readyPages > 0) {
    rounds++;
    const takeCounts = readyCounts.slice(0, concurrency);
    readyCounts = readyCounts.slice(takeCounts.length);
    readyPages -= Math.min(readyPages, concurrency - takeCounts.length);
    for (const c of takeCounts) {
      readyCounts.push(...(children.get(key(c)) ?? []));
      if (!children.has(key(c))) readyPages += pages.get(key(c)) ?? 0;
    }
  }
  return rounds;
}
