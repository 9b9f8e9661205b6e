/**
 * A month of PBX calls and the carrier file that bills them, with known discrepancies: what each
 * carrier record and each expected PBX call must end as. Built from a seed, so the matching tests
 * can shuffle, skew and compare against the same ground truth.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CdrpipeConfig } from '../../pipeline/config/config-schema.ts';
import { deckConfig, writeDomains, writeLake, type FixtureCdr } from '../transform/lake-fixture.ts';
import { writeCarrierLake, type FixtureCarrierRecord } from './carrier-lake-fixture.ts';

export const CARRIER = 'acme';
/** Buy side: +1 at 0.006/min (100 micro-units a second), +44 at 0.012/min, both 6/6. */
export const BUY_DECK = `prefix,description,per_minute,initial_increment,subsequent_increment,minimum_seconds,connect_fee,effective_from
+1,US,0.006000,6,6,0,0,2026-01-01
+44,United Kingdom,0.012000,6,6,0,0,2026-01-01
`;

export type Status = 'matched' | 'duration_dispute' | 'cost_dispute' | 'carrier_only' | 'pbx_only';

export interface Scenario {
  cdrs: FixtureCdr[];
  records: (FixtureCarrierRecord & { call_id: string })[];
  /** call_id -> status and the PBX id it must match (undefined for phantoms). */
  truth: Map<string, { status: Status; pbxId?: string }>;
  /** PBX ids expected on the file but left off it. */
  missing: string[];
}

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const billable = (talk: number) => (talk <= 6 ? 6 : 6 + Math.ceil((talk - 6) / 6) * 6);
/** Cost at the buy deck for billed seconds: +1 100 micro-units/s, +44 200. */
const costOf = (to: string, secs: number) => ((secs * (to.startsWith('+44') ? 200 : 100)) / 1e6).toFixed(6);
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * `n` expected calls in October 2026 (every 20th to the UK, a few repeated destinations spaced
 * wider than two tolerances), noise the carrier never sees (inbound, unanswered, short codes),
 * and the discrepancies: 3 missing, 2 inflated durations, 2 off-price costs, 2 phantoms.
 * `closePair` adds two calls to one number 4 s apart of which only the first is billed: a carrier
 * record with two candidates.
 */
export function buildScenario(opts: { n?: number; seed?: number; closePair?: boolean } = {}): Scenario {
  const n = opts.n ?? 40;
  const rnd = prng(opts.seed ?? 7);
  const cdrs: FixtureCdr[] = [];
  const records: Scenario['records'] = [];
  const truth: Scenario['truth'] = new Map();
  const missing: string[] = [];
  const base = Date.parse('2026-10-03T09:00:00Z');
  for (let i = 0; i < n; i++) {
    const domain = i % 2 === 0 ? 'a.example' : 'b.example';
    const id = `call-${i}`;
    // Every 7th call goes to the number of the call before it, at least a minute later.
    const digits = i % 7 === 6 ? 4155550000 + i - 1 : 4155550000 + i;
    const uk = i % 20 === 19;
    const dialed = uk ? `011442079460${String(i).padStart(3, '0')}` : String(digits);
    const e164 = uk ? `+442079460${String(i).padStart(3, '0')}` : `+1${digits}`;
    const start = base + i * 61_000 + Math.floor(rnd() * 5000);
    const talk = 5 + Math.floor(rnd() * 300);
    cdrs.push({
      domain,
      id,
      start: iso(start),
      direction: 'outbound',
      talk_s: talk,
      duration_s: talk + 7,
      orig_user: '101',
      caller_number: '2125550100',
      dialed_number: dialed,
      // One call is registration noise on our side: still expected on the carrier file.
      ...(i === 3 ? { reason: 'Registration expired' } : {}),
    });
    const answer = start + 7000;
    if (i === 5 || i === 17 || i === 29) {
      missing.push(id);
      continue;
    }
    const callId = `acme-${i}`;
    let secs = billable(talk);
    let cost = costOf(e164, secs);
    let status: Status = 'matched';
    if (i === 8 || i === 22) {
      secs += 60;
      cost = costOf(e164, secs);
      status = 'duration_dispute';
    } else if (i === 11 || i === 33) {
      cost = (Number(cost) + 0.05).toFixed(6);
      status = 'cost_dispute';
    }
    // The carrier writes numbers its own way: E.164, 11 digits or formatted.
    const to = uk
      ? e164
      : i % 3 === 0
        ? e164
        : i % 3 === 1
          ? `1${digits}`
          : `(${String(digits).slice(0, 3)}) ${String(digits).slice(3, 6)}-${String(digits).slice(6)}`;
    records.push({ call_id: callId, start: iso(answer + Math.round((rnd() - 0.5) * 4000)), to, billed_seconds: secs, cost });
    truth.set(callId, { status, pbxId: id });
  }
  for (const [k, at] of [
    [1, base + 3_000_000],
    [2, base + 3_100_000],
  ] as const) {
    const callId = `phantom-${k}`;
    records.push({ call_id: callId, start: iso(at), to: `+1646555${String(1000 + k)}`, billed_seconds: 60, cost: '0.006000' });
    truth.set(callId, { status: 'carrier_only' });
  }
  // What the carrier never sees: inbound, unanswered, a short code.
  cdrs.push({
    domain: 'a.example',
    id: 'in-1',
    start: iso(base + 100),
    direction: 'inbound',
    talk_s: 40,
    caller_number: '4155559999',
    dialed_number: '2125550100',
  });
  cdrs.push({
    domain: 'a.example',
    id: 'noanswer-1',
    start: iso(base + 200),
    direction: 'outbound',
    talk_s: 0,
    duration_s: 20,
    dialed_number: '4155558888',
  });
  cdrs.push({ domain: 'b.example', id: 'short-1', start: iso(base + 300), direction: 'outbound', talk_s: 30, dialed_number: '*97' });
  if (opts.closePair) {
    const at = base + 4_000_000;
    cdrs.push({
      domain: 'a.example',
      id: 'close-x',
      start: iso(at),
      direction: 'outbound',
      talk_s: 30,
      duration_s: 37,
      dialed_number: '3035550123',
    });
    cdrs.push({
      domain: 'a.example',
      id: 'close-y',
      start: iso(at + 4000),
      direction: 'outbound',
      talk_s: 30,
      duration_s: 37,
      dialed_number: '3035550123',
    });
    records.push({ call_id: 'close-x', start: iso(at + 7000), to: '+13035550123', billed_seconds: 30, cost: '0.003000' });
    truth.set('close-x', { status: 'matched', pbxId: 'close-x' });
    missing.push('close-y');
  }
  return { cdrs, records, truth, missing };
}

/** One carrier's file over the same PBX calls, and its settings beyond the buy deck. */
export interface CarrierVariant {
  name: string;
  records: readonly FixtureCarrierRecord[];
  settings?: Record<string, unknown>;
  /** The file the records came from (default: one of its own per carrier). */
  file?: { name: string; sha256: string };
}

/**
 * Writes the PBX side (lake, domains) and each carrier's file into `dataDir`, and returns a config
 * with each carrier on the buy deck. Carriers are matched independently, so one transform checks
 * several variants of a file at once.
 */
export async function writeScenario(
  dataDir: string,
  cdrs: readonly FixtureCdr[],
  carriers: readonly CarrierVariant[],
): Promise<CdrpipeConfig> {
  const deck = join(dataDir, 'buy-deck.csv');
  await writeFile(deck, BUY_DECK);
  await writeDomains(dataDir, [
    { domain: 'a.example', time_zone: 'UTC' },
    { domain: 'b.example', time_zone: 'America/New_York' },
  ]);
  await writeLake(dataDir, cdrs);
  for (const [i, c] of carriers.entries()) {
    await writeCarrierLake(
      dataDir,
      c.name,
      c.records,
      c.file ?? { name: `${c.name}-2026-10.csv`, sha256: String(i).repeat(64).slice(0, 64) },
    );
  }
  const base = await deckConfig(dataDir);
  return { ...base, carriers: Object.fromEntries(carriers.map((c) => [c.name, { buyDeck: deck, ...c.settings }])) };
}
