/**
 * The simulator in its own process: it stands in for a remote PBX, so its JSON generation must
 * not share an event loop with the ingest being timed. Also answers ground-truth questions
 * (totals, the minimum request count) without shipping records over IPC.
 */
import { startSimulator, type FaultOptions, type RunningSimulator } from '../../pipeline/simulator/index.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { utcMonthOf } from '../../pipeline/util/month.ts';
import { addTallies, minimumRequests, type PlannedRequest, type RequestTally, type SplitRule } from '../lib/request-bound.ts';
import { serveWorker } from '../lib/worker.ts';

export interface SimStartParams {
  seed: number;
  domains: number;
  volume: number;
  dataFrom: Date;
  dataTo: Date;
  /** The simulator's fixed "now": after dataTo, so every call has ended and is visible. */
  now: Date;
  faults?: FaultOptions;
  /** Domain-scoped keys and their domains (the simulator's `domainKeys`). */
  domainKeys?: Record<string, string>;
}

export interface SimTotals {
  total: number;
  seconds: number;
  byDomain: Record<string, { total: number; seconds: number }>;
}

let sim: RunningSimulator | undefined;

function running(): RunningSimulator {
  if (!sim) throw new Error('simulator not started: call start first');
  return sim;
}

const MINUTE_MS = 60_000;

/** Halves at the minute-aligned midpoint (what a bisecting planner does). */
const bisectMinute: SplitRule = (w) => {
  const midMs = Math.floor((w.start.getTime() + w.end.getTime()) / 2 / MINUTE_MS) * MINUTE_MS;
  const mid = new Date(midMs);
  return [
    { start: w.start, end: mid },
    { start: mid, end: w.end },
  ];
};

serveWorker({
  start: async (p: SimStartParams) => {
    if (sim) await sim.close();
    sim = await startSimulator({
      port: 0,
      seed: p.seed,
      domains: p.domains,
      volume: p.volume,
      dataFrom: p.dataFrom,
      dataTo: p.dataTo,
      clock: new FixedClock(p.now),
      strict: true,
      // Enough cache for a month of every domain, so serving is not dominated by regeneration.
      maxCachedRecords: 3_000_000,
      ...(p.domainKeys ? { domainKeys: p.domainKeys } : {}),
      ...(p.faults ? { faults: p.faults } : {}),
    });
    return { url: sim.url, domains: sim.domains().map((d) => String(d.domain)) };
  },
  setFaults: async (f: FaultOptions) => {
    running().setFaults(f);
    return null;
  },
  /** CDR totals per domain for one UTC month, as the API's counts would report them. */
  totals: async (p: { month: string }) => {
    const s = running();
    const out: SimTotals = { total: 0, seconds: 0, byDomain: {} };
    for (const d of s.domains()) {
      const name = String(d.domain);
      const t = s.monthTotals(name, p.month);
      out.byDomain[name] = { total: t.total, seconds: t.seconds };
      out.total += t.total;
      out.seconds += t.seconds;
    }
    return out;
  },
  /** The minimum request count for reading [from, to) (one UTC month) of the given domains. */
  minimumRequests: async (p: {
    from: Date;
    to: Date;
    domains?: string[];
    rowBudget: number;
    pageSize: number;
    minWindowMinutes: number;
    /** Also return the requests themselves (for the extraction floor). */
    plan?: boolean;
  }) => {
    const s = running();
    const plan: PlannedRequest[] = [];
    if (utcMonthOf(p.from) !== utcMonthOf(new Date(p.to.getTime() - 1))) throw new Error('minimumRequests expects one UTC month');
    let tally: RequestTally = { counts: 0, lists: 0, windows: 0, rows: 0 };
    const names = p.domains ?? s.domains().map((d) => String(d.domain));
    for (const domain of names) {
      const t = await minimumRequests({
        domain,
        window: { start: p.from, end: p.to },
        rowBudget: p.rowBudget,
        pageSize: p.pageSize,
        // The planner never makes a window narrower than this floor.
        minWindowMs: 2 * p.minWindowMinutes * MINUTE_MS,
        split: bisectMinute,
        count: async (d, w) => s.groundTruth(d, w).length,
        ...(p.plan ? { onRequest: (r: PlannedRequest) => void plan.push(r) } : {}),
      });
      tally = addTallies(tally, t);
    }
    return p.plan ? { ...tally, plan } : tally;
  },
  /**
   * The minimum request count for one reseller-wide read of [from, to) (inside one UTC month):
   * the count calls a bisecting planner needs over every domain's records at once, and
   * ceil(rows / pageSize) pages per final window.
   */
  resellerMinimum: async (p: { from: Date; to: Date; rowBudget: number; pageSize: number; minWindowMinutes: number; plan?: boolean }) => {
    const s = running();
    if (utcMonthOf(p.from) !== utcMonthOf(new Date(p.to.getTime() - 1))) throw new Error('resellerMinimum expects one UTC month');
    const names = s.domains().map((d) => String(d.domain));
    const plan: PlannedRequest[] = [];
    const tally = await minimumRequests({
      domain: '*',
      window: { start: p.from, end: p.to },
      rowBudget: p.rowBudget,
      pageSize: p.pageSize,
      minWindowMs: 2 * p.minWindowMinutes * MINUTE_MS,
      split: bisectMinute,
      count: async (_d, w) => names.reduce((n, d) => n + s.groundTruthCount(d, w).total, 0),
      ...(p.plan ? { onRequest: (r: PlannedRequest) => void plan.push(r) } : {}),
    });
    return p.plan ? { ...tally, plan } : tally;
  },
  stats: async () => running().stats(),
  stop: async () => {
    await sim?.close();
    sim = undefined;
    return null;
  },
});
