import { CdrStore } from './cdr-store.ts';
import { generateDomains } from './domain-gen.ts';

/** Which simulated data: the same seed, domains and volume give the records the server serves. */
export interface SimulatedMonthOptions {
  seed: number;
  domains: number;
  volume?: number;
  medianCallsPerBusinessDay?: number;
  /** UTC month, YYYY-MM. */
  month: string;
}

/**
 * Every record the simulator (started with the same seed, domains and volume) serves for `month`
 * (UTC, by start time) once the month is over, in API form with `...Z` datetimes, per domain.
 * No server is started: this is the ground truth files derived from the simulator are built on.
 */
export function simulatedMonthRecords(opts: SimulatedMonthOptions): { domain: string; records: Record<string, unknown>[] }[] {
  const m = /^(\d{4})-(\d{2})$/.exec(opts.month);
  if (!m) throw new Error(`bad month ${JSON.stringify(opts.month)}: expected YYYY-MM`);
  const fromMs = Date.UTC(Number(m[1]), Number(m[2]) - 1, 1);
  const toMs = Date.UTC(Number(m[1]), Number(m[2]), 1);
  const store = new CdrStore({ seed: opts.seed, volume: opts.volume ?? 1, dataFromMs: fromMs, dataToMs: toMs });
  const profiles = generateDomains({
    seed: opts.seed,
    count: opts.domains,
    ...(opts.medianCallsPerBusinessDay !== undefined ? { medianCallsPerBusinessDay: opts.medianCallsPerBusinessDay } : {}),
  });
  for (const p of profiles) store.addDomain(p);
  // Seen from well after the month: every call has ended and is visible.
  const vis = { nowMs: toMs + 40 * 86_400_000 };
  return profiles.map((p) => ({ domain: p.domain, records: store.records(p.domain, fromMs, toMs, vis) }));
}
