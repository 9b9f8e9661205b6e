/**
 * Toll-fraud and spend scenarios to inject into a simulated domain (`sim.addCdrs(domain,
 * scenario.records)`), each with its ground truth: which calls are fraudulent. Deterministic for
 * a seed; the caller picks the time (UTC) so a night is a night in the domain's own zone.
 *
 *   hijacked-extension  a compromised extension's night burst: rapid dialling, parallel calls to
 *                       destinations the deck does not price (+252, +882), one very long call
 *   wangiri             one-ring missed calls from many numbers of one foreign country code
 *   slow-drip           premium calls paced below the hourly cap, for hours, in business hours
 *   conference-day      legitimate: a weekly conference morning, twice as busy as usual on the
 *                       day itself; nothing in it is fraud (needs `weeks` of history to say so)
 */
import type { DomainProfile } from './domain-gen.ts';
import { Prng, hashSeed } from './prng.ts';

export const FRAUD_SCENARIOS = ['hijacked-extension', 'wangiri', 'slow-drip', 'conference-day'] as const;
export type FraudScenarioName = (typeof FRAUD_SCENARIOS)[number];

export interface FraudScenarioSpec {
  scenario: FraudScenarioName;
  /** UTC start of the scenario (for conference-day: of its first hour on the day itself). */
  at: Date;
  seed?: number;
  /** conference-day: how many earlier weeks held the usual (half as busy) conference; default 4. */
  weeks?: number;
}

export interface FraudScenario {
  scenario: FraudScenarioName;
  domain: string;
  /** API records, ready for `addCdrs`. */
  records: Record<string, unknown>[];
  /** Ground truth: ids of the records that are fraud (none for conference-day). */
  fraudulentIds: string[];
}

const DIRECTION = { outbound: 0, inbound: 1, missed: 2 } as const;

interface CallSpec {
  id: string;
  direction: keyof typeof DIRECTION;
  startMs: number;
  ringS: number;
  talkS: number;
  user: string;
  from: string;
  to: string;
}

/** One API record in the simulator's own shape (the fields the pipeline reads, and a few more). */
function record(domain: string, reseller: string, c: CallSpec): Record<string, unknown> {
  const answered = c.talkS > 0;
  const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
  const outbound = c.direction === 'outbound';
  return {
    id: c.id,
    domain,
    reseller,
    'call-direction': DIRECTION[c.direction],
    'call-start-datetime': iso(c.startMs),
    'call-answer-datetime': answered ? iso(c.startMs + c.ringS * 1000) : null,
    'call-disconnect-datetime': iso(c.startMs + (c.ringS + c.talkS) * 1000),
    'call-total-duration-seconds': c.ringS + c.talkS,
    'call-talking-duration-seconds': c.talkS,
    'call-disconnect-reason-text': answered ? 'Orig: Bye' : 'Orig: Cancel',
    'call-orig-user': outbound ? c.user : null,
    'call-orig-caller-id': c.from,
    'call-orig-from-user': c.from,
    'call-orig-to-user': c.to,
    'call-orig-request-user': c.to,
    'call-orig-domain': outbound ? domain : 'Call-Inbound',
    'call-term-user': outbound ? null : c.user,
    'call-term-domain': outbound ? '*' : domain,
    'call-routing-class': outbound ? 1 : 0,
  };
}

function usersOf(p: DomainProfile): string[] {
  return p.users.length > 0 ? p.users.map((u) => u.user) : ['101'];
}

function mainDid(p: DomainProfile): string {
  return p.dids[0] ?? `1${p.areaCode}5550100`;
}

const MIN = 60_000;

/** Builds one scenario's records for `profile`'s domain. */
export function fraudScenario(profile: DomainProfile, spec: FraudScenarioSpec): FraudScenario {
  const rng = new Prng(hashSeed(spec.seed ?? 1, profile.domain, spec.scenario, spec.at.toISOString()));
  const at = spec.at.getTime();
  const users = usersOf(profile);
  const did = mainDid(profile);
  const tag = `${spec.scenario}-${spec.at.toISOString().slice(0, 13).replace(/[-T]/g, '')}`;
  const calls: CallSpec[] = [];
  let fraud = true;
  const next = (c: Omit<CallSpec, 'id'>) => calls.push({ ...c, id: `${tag}-${String(calls.length + 1).padStart(3, '0')}` });
  switch (spec.scenario) {
    case 'hijacked-extension': {
      const ext = users[users.length - 1]!;
      // A dialler tries its list first: eight attempts within one minute, unanswered.
      for (let i = 0; i < 8; i++)
        next({ direction: 'outbound', startMs: at + i * 6_000, ringS: 4, talkS: 0, user: ext, from: did, to: `011252${rng.digits(7)}` });
      // Then three channels at a time, for two hours, 20-minute calls to +252 and +882.
      for (let m = 2; m < 120; m += 7) {
        const intl = rng.chance(0.5) ? `011252${rng.digits(7)}` : `+88216${rng.digits(8)}`;
        next({ direction: 'outbound', startMs: at + m * MIN, ringS: 3, talkS: rng.int(18 * 60, 22 * 60), user: ext, from: did, to: intl });
      }
      // And one call left open for hours.
      next({ direction: 'outbound', startMs: at + 5 * MIN, ringS: 2, talkS: 200 * 60, user: ext, from: did, to: `+88216${rng.digits(8)}` });
      break;
    }
    case 'wangiri': {
      const user = users[0]!;
      for (let i = 0; i < 12; i++)
        next({
          direction: 'missed',
          startMs: at + i * 30_000,
          ringS: rng.int(1, 3),
          talkS: 0,
          user,
          from: `+216${rng.digits(8)}`,
          to: did,
        });
      break;
    }
    case 'slow-drip': {
      const ext = users[0]!;
      // One 32-minute premium call an hour: about 32 an hour, well under the hourly cap.
      for (let h = 0; h < 8; h++)
        next({
          direction: 'outbound',
          startMs: at + h * 60 * MIN + 5 * MIN,
          ringS: 3,
          talkS: 32 * 60,
          user: ext,
          from: did,
          to: `1900${rng.int(200, 999)}${rng.digits(4)}`,
        });
      break;
    }
    case 'conference-day': {
      fraud = false;
      const weeks = spec.weeks ?? 4;
      // Two hours of 50-minute domestic dial-outs, spread over the domain's users so no one dials fast:
      // 40 an hour on ordinary weeks, 100 an hour on the day itself.
      for (let w = weeks; w >= 0; w--) {
        const base = at - w * 7 * 24 * 60 * MIN;
        const perHour = w === 0 ? 100 : 40;
        for (let h = 0; h < 2; h++)
          for (let i = 0; i < perHour; i++)
            next({
              direction: 'outbound',
              startMs: base + h * 60 * MIN + Math.floor((i * 60 * MIN) / perHour),
              ringS: 4,
              talkS: 50 * 60,
              user: users[i % users.length]!,
              from: did,
              to: `1${profile.areaCode}${rng.int(200, 999)}${rng.digits(4)}`,
            });
      }
      break;
    }
  }
  const records = calls.map((c) => record(profile.domain, profile.reseller, c));
  return { scenario: spec.scenario, domain: profile.domain, records, fraudulentIds: fraud ? calls.map((c) => c.id) : [] };
}
