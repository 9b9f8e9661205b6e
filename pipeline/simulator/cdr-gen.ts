/**
 * The CDR generator: one (domain, UTC day) at a time, from a hash of (seed, domain, day), so a
 * year of data for thousands of domains costs nothing until a day is asked for. Pure and
 * importable on its own (a benchmark can write API page bodies straight to disk).
 *
 * Records are serialized once, in cdr-build.ts, in the canonical `...Z` datetime form; the server rewrites
 * datetimes per response only when the request used another form.
 */
import type { DomainProfile } from './domain-gen.ts';
import { hashSeed, Prng } from './prng.ts';
import { DAY_MS, localParts } from '../util/zone-time.ts';
import { formatCanonical } from './datetime-format.ts';
import { entryJson, packDay, withJson, type CdrEntry } from './cdr-entry.ts';
import { buildEntry, type Kind, type Proto } from './cdr-build.ts';

export { CALL_DIRECTION, entryJson, withJson } from './cdr-entry.ts';
export type { CallDirectionName, CdrEntry } from './cdr-entry.ts';
export { HOSTILE_CALLER_NAMES } from './cdr-vocabulary.ts';

const HOUR_MS = 3_600_000;
/** Relative call volume per local hour (business hours dominate). */
const HOUR_WEIGHT = [
  0.02, 0.01, 0.01, 0.01, 0.01, 0.03, 0.08, 0.3, 0.8, 1.0, 1.0, 1.0, 0.7, 0.9, 1.0, 1.0, 0.9, 0.55, 0.25, 0.12, 0.08, 0.06, 0.04, 0.03,
];
const HOUR_WEIGHT_SUM = HOUR_WEIGHT.reduce((a, b) => a + b, 0);
/** Relative volume per local weekday, Sunday first. */
const WEEKDAY_WEIGHT = [0.07, 1.0, 1.05, 1.0, 1.0, 0.95, 0.15];

const KINDS: readonly Kind[] = ['outbound', 'inbound', 'missed', 'internal', 'noise'];
const KIND_WEIGHTS = [0.36, 0.4, 0.1, 0.1, 0.04];

/** What the generator needs besides the domain. */
export interface DayGenOptions {
  seed: number;
  /** Multiplies every domain's calls per business day; default 1. */
  volume?: number;
}

/** The UTC day number of an instant (days since 1970-01-01). */
export function utcDayOf(epochMs: number): number {
  return Math.floor(epochMs / DAY_MS);
}

/** Expected calls (before transfer legs) of a domain on one UTC day: for sizing runs without generating. */
export function expectedCallsOnDay(profile: DomainProfile, day: number, volume = 1): number {
  let total = 0;
  const daily = profile.callsPerBusinessDay * volume;
  for (let h = 0; h < 24; h++) {
    const lp = localParts(profile.timeZone, day * DAY_MS + h * HOUR_MS + HOUR_MS / 2);
    total += (daily * HOUR_WEIGHT[lp.hour]! * WEEKDAY_WEIGHT[lp.weekday]!) / HOUR_WEIGHT_SUM;
  }
  return total;
}

/**
 * All CDRs of one domain whose call starts in UTC day `day`, ordered by start then id. Ids are
 * `YYYYMMDD` + a 6-digit sequence: stable for (seed, domain, day), unique per domain, and they
 * say which day to regenerate to find a record again.
 */
export function generateDomainDay(profile: DomainProfile, day: number, opts: DayGenOptions): CdrEntry[] {
  const rng = new Prng(hashSeed(opts.seed, profile.domain, day));
  const daily = profile.callsPerBusinessDay * (opts.volume ?? 1);
  const dayStart = day * DAY_MS;
  const dayEnd = dayStart + DAY_MS;
  const protos: Proto[] = [];
  for (let h = 0; h < 24; h++) {
    const hourStart = dayStart + h * HOUR_MS;
    const lp = localParts(profile.timeZone, hourStart + HOUR_MS / 2);
    const mean = (daily * HOUR_WEIGHT[lp.hour]! * WEEKDAY_WEIGHT[lp.weekday]!) / HOUR_WEIGHT_SUM;
    const n = rng.poisson(mean);
    for (let i = 0; i < n; i++) {
      protos.push({
        startMs: hourStart + Math.floor(rng.next() * 3600) * 1000,
        kind: rng.weighted(KINDS, KIND_WEIGHTS),
        parent: undefined,
        id: '',
        callId: '',
      });
    }
  }
  // Transfer legs: a share of answered inbound calls get a child leg a little later.
  const base = protos.length;
  for (let i = 0; i < base; i++) {
    const p = protos[i]!;
    if (p.kind === 'inbound' && rng.chance(0.08)) {
      const childStart = p.startMs + rng.int(15, 240) * 1000;
      if (childStart < dayEnd) protos.push({ startMs: childStart, kind: 'inbound', parent: p, id: '', callId: '' });
    }
  }
  protos.sort((a, b) => a.startMs - b.startMs);
  const prefix = new Date(dayStart).toISOString().slice(0, 10).replace(/-/g, '');
  for (let i = 0; i < protos.length; i++) {
    const p = protos[i]!;
    p.id = prefix + String(i + 1).padStart(6, '0');
    p.callId = `${rng.hex(16)}@${profile.coreServer}`;
  }
  const entries: CdrEntry[] = new Array(protos.length);
  const jsons: string[] = new Array(protos.length);
  for (let i = 0; i < protos.length; i++) {
    const built = buildEntry(profile, protos[i]!, rng);
    entries[i] = built.entry;
    jsons[i] = built.json;
  }
  packDay(entries, jsons);
  return entries;
}

/**
 * The later version of a record whose call details were corrected after first delivery: talk
 * time and total duration grow by a few seconds and the disconnect time moves with them. Types
 * are kept (a numeric string stays a string).
 */
export function updatedVersion(entry: CdrEntry): CdrEntry {
  const rec = JSON.parse(entryJson(entry)) as Record<string, unknown>;
  const delta = 1 + (Math.floor(entry.updateU * 1_000_003) % 90);
  const bump = (key: string, by: number): void => {
    const v = rec[key];
    if (typeof v === 'number') rec[key] = v + by;
    else if (typeof v === 'string' && v !== '' && Number.isFinite(Number(v))) rec[key] = String(Number(v) + by);
  };
  const answered = rec['call-answer-datetime'] !== null && rec['call-answer-datetime'] !== undefined;
  bump('call-total-duration-seconds', delta);
  if (answered) bump('call-talking-duration-seconds', delta);
  const endMs = entry.endMs + delta * 1000;
  rec['call-disconnect-datetime'] = formatCanonical(endMs);
  return withJson({ ...entry, endMs, seconds: entry.seconds + delta }, JSON.stringify(rec));
}
