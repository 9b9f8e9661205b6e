/**
 * Customer domains of a simulated reseller: hostname-like names, a time-zone mix, users
 * (extensions) and DIDs, and a skewed call volume (a few busy customers, many quiet ones).
 * Pure: the same seed always gives the same domains.
 */
import { hashSeed, Prng } from './prng.ts';

/** One extension of a domain. */
export interface SimUser {
  user: string;
  firstName: string;
  lastName: string;
  email: string;
  department: string;
  site: string;
}

/** Everything the generator needs to know about a domain. */
export interface DomainProfile {
  domain: string;
  reseller: string;
  description: string;
  /** The PBX `time-zone` value (IANA name or alias such as US/Pacific). */
  timeZone: string;
  areaCode: string;
  /** Mean calls on a business day before the run's `volume` multiplier. */
  callsPerBusinessDay: number;
  users: SimUser[];
  /** The customer's own numbers, 11 digits with the leading 1. */
  dids: string[];
  /** A toll-free DID when the customer has one (inbound calls to it are toll-free inbound). */
  tollFreeDid: string | undefined;
  coreServer: string;
  /** False for domains added by tests: they hold only injected records. */
  generated: boolean;
  /** Extra keys merged into the API domain object (tests may pass anything). */
  extra: Record<string, unknown>;
}

const PREFIXES = [
  'acme',
  'smith',
  'bluesky',
  'harbor',
  'pinecrest',
  'summit',
  'redwood',
  'lakeside',
  'northstar',
  'granite',
  'oakridge',
  'riverside',
  'brightpath',
  'cedar',
  'evergreen',
  'goldenstate',
  'ironwood',
  'keystone',
  'liberty',
  'maple',
  'meridian',
  'pioneer',
  'quantum',
  'sterling',
  'sunrise',
  'trident',
  'valley',
  'westgate',
  'willow',
  'zenith',
  'alpine',
  'beacon',
  'coastal',
  'delta',
  'eastside',
  'frontier',
  'garcia',
  'horizon',
  'johnson',
  'kowalski',
  'lopez',
  'miller',
  'nguyen',
  'obrien',
  'patel',
  'rivera',
  'silverline',
  'tanaka',
  'union',
  'vista',
] as const;

const INDUSTRIES = [
  'dental',
  'law',
  'realty',
  'plumbing',
  'hvac',
  'autobody',
  'vet',
  'clinic',
  'cpa',
  'insurance',
  'roofing',
  'pediatrics',
  'chiro',
  'logistics',
  'printing',
  'bakery',
  'hotel',
  'motors',
  'school',
  'church',
  'pharmacy',
  'optical',
  'fitness',
  'salon',
  'storage',
  'electric',
  'landscaping',
  'title',
  'mortgage',
  'staffing',
] as const;

const INDUSTRY_LABEL: Record<string, string> = {
  dental: 'Dental',
  law: 'Law Offices',
  realty: 'Realty',
  plumbing: 'Plumbing',
  hvac: 'Heating & Air',
  autobody: 'Auto Body',
  vet: 'Veterinary Hospital',
  clinic: 'Family Clinic',
  cpa: 'CPA Group',
  insurance: 'Insurance Agency',
  roofing: 'Roofing',
  pediatrics: 'Pediatrics',
  chiro: 'Chiropractic',
  logistics: 'Logistics',
  printing: 'Printing',
  bakery: 'Bakery',
  hotel: 'Hotel',
  motors: 'Motors',
  school: 'Academy',
  church: 'Community Church',
  pharmacy: 'Pharmacy',
  optical: 'Optical',
  fitness: 'Fitness',
  salon: 'Salon & Spa',
  storage: 'Self Storage',
  electric: 'Electric',
  landscaping: 'Landscaping',
  title: 'Title Co.',
  mortgage: 'Mortgage',
  staffing: 'Staffing',
};

/** Zones and their share of customers, with area codes typical for each. */
const ZONES: ReadonlyArray<{ zone: string; weight: number; areaCodes: readonly string[] }> = [
  { zone: 'America/New_York', weight: 26, areaCodes: ['212', '617', '404', '305', '215', '704'] },
  { zone: 'US/Pacific', weight: 20, areaCodes: ['206', '415', '503', '619', '702', '818'] },
  { zone: 'America/Chicago', weight: 20, areaCodes: ['312', '214', '713', '612', '314', '615'] },
  { zone: 'America/Denver', weight: 8, areaCodes: ['303', '801', '505'] },
  { zone: 'America/Phoenix', weight: 5, areaCodes: ['602', '480', '520'] },
  { zone: 'UTC', weight: 6, areaCodes: ['646', '929'] },
  { zone: 'US/Eastern', weight: 5, areaCodes: ['313', '412', '919'] },
  { zone: 'Pacific/Honolulu', weight: 2, areaCodes: ['808'] },
  { zone: 'America/Anchorage', weight: 2, areaCodes: ['907'] },
  { zone: 'Europe/London', weight: 3, areaCodes: ['646'] },
  { zone: 'America/Toronto', weight: 3, areaCodes: ['416', '647'] },
];

const FIRST_NAMES = [
  'Ana',
  'Ben',
  'Carla',
  'David',
  'Elena',
  'Frank',
  'Grace',
  'Hiro',
  'Iris',
  'Jamal',
  'Kim',
  'Luis',
  'Maya',
  'Nina',
  'Omar',
  'Priya',
  'Quinn',
  'Rosa',
  'Sam',
  'Tara',
  'Uma',
  'Victor',
  'Wendy',
  'Xavier',
  'Yara',
  'Zoe',
] as const;
const LAST_NAMES = [
  'Adams',
  'Brown',
  'Chen',
  'Diaz',
  'Evans',
  'Fischer',
  'Gupta',
  'Hughes',
  'Ito',
  'Jones',
  'Khan',
  'Lee',
  'Martin',
  'Novak',
  'Olsen',
  'Park',
  'Reyes',
  'Singh',
  'Taylor',
  'Vega',
  'Walsh',
  'Young',
] as const;
const DEPARTMENTS = ['Front Desk', 'Sales', 'Support', 'Billing', 'Management', ''] as const;

export const DEFAULT_RESELLER = 'examplevoice';

/** Zones the first six domains of every seed get, in a seed-dependent order. */
const GUARANTEED_ZONES = ['America/New_York', 'US/Pacific', 'America/Chicago', 'UTC', 'America/Denver', 'Europe/London'] as const;

function shuffle<T>(rng: Prng, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Options of `generateDomains`. */
export interface DomainGenOptions {
  seed: number;
  count: number;
  /** Median calls per business day per domain, before skew; default 15. */
  medianCallsPerBusinessDay?: number;
  reseller?: string;
}

/** N customer domains from a seed. Names are lowercase [a-z0-9.-] and unique. */
export function generateDomains(opts: DomainGenOptions): DomainProfile[] {
  const rng = new Prng(hashSeed('domains', opts.seed));
  const median = opts.medianCallsPerBusinessDay ?? 15;
  const reseller = opts.reseller ?? DEFAULT_RESELLER;
  const used = new Set<string>();
  const out: DomainProfile[] = [];
  const firstZones = shuffle(new Prng(hashSeed('zones', opts.seed)), [...GUARANTEED_ZONES]);
  for (let i = 0; i < opts.count; i++) {
    const prefix = rng.pick(PREFIXES);
    const industry = rng.pick(INDUSTRIES);
    let base = prefix + industry;
    if (used.has(base)) base = `${prefix}${industry}${i}`;
    used.add(base);
    const drawn = rng.weighted(
      ZONES,
      ZONES.map((z) => z.weight),
    );
    // The first domains cover the key zones, so even a small run has the mix reports must handle.
    const zoneSpec = i < firstZones.length ? (ZONES.find((z) => z.zone === firstZones[i]) ?? drawn) : drawn;
    const areaCode = rng.pick(zoneSpec.areaCodes);
    // Log-normal skew: most customers are quiet, a few are busy call centres.
    const calls = Math.max(1, Math.min(2000, Math.round(median * Math.exp(1.1 * rng.normal()))));
    const domain = `${base}.pbx.example`;
    out.push({
      domain,
      reseller,
      description: `${capitalize(prefix)} ${INDUSTRY_LABEL[industry] ?? capitalize(industry)}`,
      timeZone: zoneSpec.zone,
      areaCode,
      callsPerBusinessDay: calls,
      users: makeUsers(rng, domain, Math.max(3, Math.min(80, Math.round(3 + 2 * Math.sqrt(calls))))),
      dids: makeDids(rng, areaCode, rng.int(1, 4)),
      tollFreeDid: rng.chance(0.25) ? `1${rng.pick(['800', '888', '877', '866'])}${rng.int(200, 999)}${rng.digits(4)}` : undefined,
      coreServer: `core${rng.int(1, 3)}-${rng.pick(['phx', 'chi', 'atl'])}.pbx.example`,
      generated: true,
      extra: {},
    });
  }
  return out;
}

/** A profile for a domain a test adds by name; it has users and a DID but no generated calls unless asked. */
/** A domain a test adds by name (any name, hostile ones included). */
export interface AddDomainSpec {
  domain: string;
  timeZone?: string;
  reseller?: string;
  description?: string;
  /** Generate calls for it like the seeded domains; default false (only injected records). */
  generate?: boolean;
  callsPerBusinessDay?: number;
  /** Extra keys for its API domain object. */
  extra?: Record<string, unknown>;
}

export function profileForAddedDomain(spec: AddDomainSpec & { seed?: number }): DomainProfile {
  const rng = new Prng(hashSeed('added-domain', spec.seed ?? 0, spec.domain));
  const areaCode = '206';
  return {
    domain: spec.domain,
    reseller: spec.reseller ?? DEFAULT_RESELLER,
    description: spec.description ?? `Test customer ${spec.domain}`,
    timeZone: spec.timeZone ?? 'UTC',
    areaCode,
    callsPerBusinessDay: spec.callsPerBusinessDay ?? 15,
    users: makeUsers(rng, 'customer.example', 5),
    dids: makeDids(rng, areaCode, 1),
    tollFreeDid: undefined,
    coreServer: 'core1-phx.pbx.example',
    generated: spec.generate ?? false,
    extra: spec.extra ?? {},
  };
}

function makeUsers(rng: Prng, domain: string, n: number): SimUser[] {
  const users: SimUser[] = [];
  for (let i = 0; i < n; i++) {
    const firstName = rng.pick(FIRST_NAMES);
    const lastName = rng.pick(LAST_NAMES);
    users.push({
      user: String(100 + i + 1),
      firstName,
      lastName,
      email: `${firstName.toLowerCase()}.${lastName.toLowerCase()}@${domain.replace(/\.pbx\.example$/, '.example')}`,
      department: rng.pick(DEPARTMENTS),
      site: i % 7 === 0 && i > 0 ? 'Branch' : 'Main',
    });
  }
  return users;
}

function makeDids(rng: Prng, areaCode: string, n: number): string[] {
  const dids: string[] = [];
  for (let i = 0; i < n; i++) dids.push(`1${areaCode}${rng.int(200, 999)}${rng.digits(4)}`);
  return dids;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The domain object `GET /domains` answers with (kebab-case keys as the v2 API has them). */
export function domainObject(p: DomainProfile): Record<string, unknown> {
  const mainDid = p.dids[0] ?? '';
  return {
    domain: p.domain,
    reseller: p.reseller,
    description: p.description,
    'domain-type': 'Standard',
    'time-zone': p.timeZone,
    'dial-plan': p.domain,
    'dial-policy': 'US and Canada',
    'area-code': Number(p.areaCode),
    'caller-id-name': p.description.slice(0, 15),
    'caller-id-number': mainDid,
    'caller-id-number-emergency': mainDid,
    'email-send-from-address': `noreply@${p.domain}`,
    'language-token': 'en_US',
    'limits-max-users': 100,
    'limits-max-call-queues': 10,
    'single-sign-on-enabled': 'no',
    'is-domain-locked': 'no',
    'core-server': p.coreServer,
    ...p.extra,
  };
}

/** The user objects `GET /domains/{d}/users` answers with. */
export function userObjects(p: DomainProfile): Record<string, unknown>[] {
  return p.users.map((u, i) => ({
    user: u.user,
    domain: p.domain,
    'name-first-name': u.firstName,
    'name-last-name': u.lastName,
    'name-full-name': `${u.firstName} ${u.lastName}`,
    email: [u.email],
    'user-scope': i === 0 ? 'Office Manager' : 'Basic User',
    department: u.department,
    site: u.site,
    'caller-id-number': p.dids[i % Math.max(1, p.dids.length)] ?? '',
    'dial-plan': p.domain,
    'time-zone': p.timeZone,
    'voicemail-enabled': 'yes',
    'status-message': '',
  }));
}

/** The DID objects `GET /domains/{d}/phonenumbers` answers with (each routed to a user). */
export function phoneNumberObjects(p: DomainProfile): Record<string, unknown>[] {
  const numbers = p.tollFreeDid ? [...p.dids, p.tollFreeDid] : p.dids;
  return numbers.map((n, i) => ({
    phonenumber: n,
    domain: p.domain,
    enabled: 'yes',
    'dial-rule-application': 'to-user',
    'dial-rule-translation-destination-user': p.users[i % Math.max(1, p.users.length)]?.user ?? '',
    'dial-rule-translation-destination-host': p.domain,
    'dial-rule-description': i === 0 ? 'Main number' : '',
  }));
}
