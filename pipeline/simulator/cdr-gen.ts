/**
 * The CDR generator: one (domain, UTC day) at a time, from a hash of (seed, domain, day), so a
 * year of data for thousands of domains costs nothing until a day is asked for. Pure and
 * importable on its own (a benchmark can write API page bodies straight to disk).
 *
 * Records are serialized once, here, in the canonical `...Z` datetime form; the server rewrites
 * datetimes per response only when the request used another form.
 */
import type { DomainProfile } from './domain-gen.ts';
import { hashSeed, Prng } from './prng.ts';
import { DAY_MS, localParts } from '../util/zone-time.ts';
import { formatCanonical } from './datetime-format.ts';

/** `call-direction` codes (inferred from live servers). */
export const CALL_DIRECTION = { outbound: 0, inbound: 1, missed: 2, internal: 3 } as const;
export type CallDirectionName = keyof typeof CALL_DIRECTION;

/** One stored CDR: the serialized record plus what queries need without parsing it. */
export interface CdrEntry {
  id: string;
  /** call-start-datetime, epoch ms. */
  startMs: number;
  /** call-disconnect-datetime, epoch ms: a generated record becomes visible when the call has ended. */
  endMs: number;
  /** call-total-duration-seconds as a number (the record may carry it as a numeric string). */
  seconds: number;
  direction: number;
  /**
   * The record as UTF-8 JSON with canonical `...Z` datetimes: `buf[off, off + len)`. The records
   * of a generated day share one off-heap buffer, in order and separated by commas, so a page of
   * consecutive records is a single slice and a large cache costs the garbage collector nothing.
   */
  buf: Buffer;
  off: number;
  len: number;
  /** Fixed uniform draws deciding whether this record arrives late / is updated later (faults). */
  lateU: number;
  updateU: number;
  /** Injected records: when they become visible (undefined: always). */
  visibleAtMs?: number;
  generated: boolean;
}

const HOUR_MS = 3_600_000;
/** Relative call volume per local hour (business hours dominate). */
const HOUR_WEIGHT = [
  0.02, 0.01, 0.01, 0.01, 0.01, 0.03, 0.08, 0.3, 0.8, 1.0, 1.0, 1.0, 0.7, 0.9, 1.0, 1.0, 0.9, 0.55, 0.25, 0.12, 0.08, 0.06, 0.04, 0.03,
];
const HOUR_WEIGHT_SUM = HOUR_WEIGHT.reduce((a, b) => a + b, 0);
/** Relative volume per local weekday, Sunday first. */
const WEEKDAY_WEIGHT = [0.07, 1.0, 1.05, 1.0, 1.0, 0.95, 0.15];

const CALLER_NAMES = [
  'WIRELESS CALLER',
  'SEATTLE WA',
  'CHICAGO IL',
  'GARCIA MARIA',
  'NGUYEN TAN',
  'SMITH JOHN',
  'BROWN LISA',
  'TOLL FREE CALL',
  'UNKNOWN',
  'PATEL RAJ',
  'OLSEN ERIK',
  'MARTIN ANNE',
] as const;
/** Caller names an ingest, a report or a CSV must survive without executing or breaking anything. */
export const HOSTILE_CALLER_NAMES = [
  '<script>alert(1)</script>',
  '=HYPERLINK("x")',
  '+1 quote "here"',
  '-cmd',
  '@SUM(1)',
  'Zoë Müller 北京',
  "O'Brien; DROP TABLE cdrs;--",
  'tab\tnew\nline',
] as const;

const NANP_AREA_CODES = [
  '201',
  '202',
  '212',
  '213',
  '305',
  '312',
  '404',
  '415',
  '469',
  '503',
  '512',
  '602',
  '617',
  '702',
  '713',
  '720',
  '801',
  '818',
  '904',
  '917',
  '971',
] as const;
const INTL: ReadonlyArray<{ cc: string; len: number; lead: string }> = [
  { cc: '44', len: 10, lead: '20' },
  { cc: '44', len: 10, lead: '7' },
  { cc: '52', len: 10, lead: '55' },
  { cc: '91', len: 10, lead: '98' },
  { cc: '49', len: 10, lead: '30' },
  { cc: '33', len: 9, lead: '1' },
  { cc: '63', len: 10, lead: '9' },
  { cc: '86', len: 11, lead: '13' },
];
const TOLL_FREE = ['800', '888', '877', '866', '855', '844', '833'] as const;
const CODECS = ['PCMU', 'PCMU', 'G722', 'opus', 'G729'] as const;

type Kind = 'outbound' | 'inbound' | 'missed' | 'internal' | 'noise';
const KINDS: readonly Kind[] = ['outbound', 'inbound', 'missed', 'internal', 'noise'];
const KIND_WEIGHTS = [0.36, 0.4, 0.1, 0.1, 0.04];

interface Proto {
  startMs: number;
  kind: Kind;
  /** Transfer leg of another call. */
  parent: Proto | undefined;
  id: string;
  callId: string;
}

const domainJson = new WeakMap<DomainProfile, { domain: string; reseller: string; coreServer: string }>();

/** A domain's constant strings, JSON-encoded once (added domains may have any characters). */
function domainStrings(p: DomainProfile): { domain: string; reseller: string; coreServer: string } {
  let d = domainJson.get(p);
  if (!d) {
    d = { domain: JSON.stringify(p.domain), reseller: JSON.stringify(p.reseller), coreServer: JSON.stringify(p.coreServer) };
    domainJson.set(p, d);
  }
  return d;
}

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

const EMPTY = Buffer.alloc(0);
let scratch = Buffer.allocUnsafeSlow(1 << 20);

/** Writes a day's records into one exact-size buffer, `rec,rec,rec`, and points each entry at its bytes. */
function packDay(entries: CdrEntry[], jsons: string[]): void {
  let chars = 0;
  for (const j of jsons) chars += j.length + 1;
  // UTF-8 needs at most 3 bytes per UTF-16 code unit.
  if (scratch.length < chars * 3) scratch = Buffer.allocUnsafeSlow(chars * 3);
  let at = 0;
  for (let i = 0; i < jsons.length; i++) {
    if (i > 0) scratch[at++] = 0x2c;
    const n = scratch.write(jsons[i]!, at, 'utf8');
    entries[i]!.off = at;
    entries[i]!.len = n;
    at += n;
  }
  const buf = Buffer.allocUnsafeSlow(at);
  scratch.copy(buf, 0, 0, at);
  for (const e of entries) e.buf = buf;
}

/** A record's JSON text. */
export function entryJson(e: CdrEntry): string {
  return e.buf.toString('utf8', e.off, e.off + e.len);
}

/** An entry holding `json` in its own buffer (injected and corrected records). */
export function withJson(e: CdrEntry, json: string): CdrEntry {
  const buf = Buffer.from(json, 'utf8');
  return { ...e, buf, off: 0, len: buf.length };
}

function intJson(v: number, asText: boolean): string {
  return asText ? '"' + v + '"' : String(v);
}

function nanp(rng: Prng, area?: string): string {
  return `1${area ?? rng.pick(NANP_AREA_CODES)}${rng.int(200, 999)}${rng.digits(4)}`;
}

/** Dialled digits as users type them: 10 or 11 digits, sometimes E.164. */
function dialled(rng: Prng, e164ish: string): string {
  const r = rng.next();
  if (r < 0.45) return e164ish.slice(1);
  if (r < 0.9) return e164ish;
  return '+' + e164ish;
}

function outboundDestination(rng: Prng, profile: DomainProfile): { dialled: string; short: boolean } {
  const r = rng.next();
  if (r < 0.45) return { dialled: dialled(rng, nanp(rng, profile.areaCode)), short: false };
  if (r < 0.81) return { dialled: dialled(rng, nanp(rng)), short: false };
  if (r < 0.89) return { dialled: dialled(rng, `1${rng.pick(TOLL_FREE)}${rng.int(200, 999)}${rng.digits(4)}`), short: false };
  if (r < 0.985) {
    const c = rng.pick(INTL);
    const national = c.lead + rng.digits(c.len - c.lead.length);
    return { dialled: rng.chance(0.7) ? `011${c.cc}${national}` : `+${c.cc}${national}`, short: false };
  }
  if (r < 0.995) return { dialled: `1900${rng.int(200, 999)}${rng.digits(4)}`, short: false };
  return { dialled: '911', short: true };
}

/** Long-tailed talk time: median about 80 s, a few calls of an hour or more. */
function talkSeconds(rng: Prng): number {
  return Math.max(1, Math.min(14_400, Math.round(Math.exp(4.4 + 1.2 * rng.normal()))));
}

function buildEntry(profile: DomainProfile, p: Proto, rng: Prng): { entry: CdrEntry; json: string } {
  const users = profile.users;
  const user = users.length > 0 ? rng.pick(users) : undefined;
  const ext = user?.user ?? '101';
  const mainDid = profile.dids[0] ?? nanp(rng, profile.areaCode);
  let direction: number;
  let ring = rng.int(2, 18);
  let talk = 0;
  let answered = true;
  let reason = rng.chance(0.5) ? 'Orig: Bye' : 'Term: Bye';
  let origUser: string | null = null;
  let termUser: string | null = null;
  let callerId: string;
  let fromName: string;
  let toUser: string;
  let termDomain = profile.domain;
  let origDomain = profile.domain;
  let routingClass = 0;
  switch (p.kind) {
    case 'outbound': {
      direction = CALL_DIRECTION.outbound;
      const dest = outboundDestination(rng, profile);
      origUser = ext;
      callerId = rng.pick(profile.dids.length > 0 ? profile.dids : [mainDid]);
      fromName = user ? `${user.firstName} ${user.lastName}` : profile.description;
      toUser = dest.dialled;
      termDomain = '*';
      talk = dest.short ? rng.int(20, 240) : talkSeconds(rng);
      routingClass = 1;
      if (rng.chance(0.12)) {
        answered = false;
        talk = 0;
        ring = rng.int(10, 45);
        reason = 'Orig: Cancel';
      }
      break;
    }
    case 'inbound':
    case 'missed': {
      direction = p.kind === 'inbound' ? CALL_DIRECTION.inbound : CALL_DIRECTION.missed;
      const parent = p.parent;
      callerId = rng.chance(0.02) ? 'anonymous' : nanp(rng);
      fromName = rng.chance(0.006) ? rng.pick(HOSTILE_CALLER_NAMES) : callerId === 'anonymous' ? 'Anonymous' : rng.pick(CALLER_NAMES);
      toUser = profile.tollFreeDid && rng.chance(0.3) ? profile.tollFreeDid : rng.pick(profile.dids.length > 0 ? profile.dids : [mainDid]);
      origDomain = 'Call-Inbound';
      termUser = ext;
      if (parent) ring = rng.int(1, 6);
      if (p.kind === 'inbound') talk = talkSeconds(rng);
      else {
        answered = false;
        ring = rng.int(5, 40);
        reason = rng.chance(0.7) ? 'Orig: Cancel' : 'Term: Busy';
      }
      break;
    }
    case 'internal': {
      direction = CALL_DIRECTION.internal;
      const other = users.length > 1 ? rng.pick(users) : undefined;
      origUser = ext;
      callerId = ext;
      fromName = user ? `${user.firstName} ${user.lastName}` : ext;
      toUser = other?.user ?? '102';
      termUser = toUser;
      talk = Math.max(1, Math.round(talkSeconds(rng) / 3));
      break;
    }
    case 'noise': {
      // A registration that lapsed: the PBX logs a zero-length leg nobody would bill.
      direction = CALL_DIRECTION.missed;
      origUser = ext;
      callerId = ext;
      fromName = ext;
      toUser = ext;
      termUser = ext;
      ring = 0;
      answered = false;
      reason = 'Term: Reg Expired';
      break;
    }
  }
  const startMs = p.startMs;
  const answerMs = answered ? startMs + ring * 1000 : null;
  const total = ring + talk;
  const endMs = startMs + total * 1000;
  const parent = p.parent;
  // Some servers send integers as numeric strings; a client must accept both.
  const asText = rng.chance(0.03);
  // Serialized by hand, in the v2 key order: JSON.stringify of an object per record dominated the cost.
  const d = domainStrings(profile);
  const origIsUser = origUser !== null;
  const origUserJson = origUser === null ? 'null' : rng.chance(0.02) ? origUser : '"' + origUser + '"';
  const onHold = talk > 120 && rng.chance(0.1) ? rng.int(5, 60) : 0;
  const outbound = direction === CALL_DIRECTION.outbound;
  const inboundOrig = origDomain === 'Call-Inbound';
  const termToUri = `sip:${outbound ? toUser : (termUser ?? toUser)}@${termDomain === '*' ? 'carrier.example' : profile.domain}`;
  const accountCode = outbound && rng.chance(0.05) ? '"' + String(rng.int(1000, 9999)) + '"' : 'null';
  const sentiment = answered && talk > 30 ? (rng.next() * 100).toFixed(2) : '';
  const origIp = inboundOrig ? '198.51.100.20' : `10.0.${rng.int(0, 9)}.${rng.int(2, 250)}`;
  const termIp = outbound ? '203.0.113.7' : `10.0.${rng.int(0, 9)}.${rng.int(2, 250)}`;
  const codec = rng.pick(CODECS);
  const json =
    '{"id":"' +
    p.id +
    '","domain":' +
    d.domain +
    ',"reseller":' +
    d.reseller +
    ',"call-direction":' +
    direction +
    ',"call-start-datetime":"' +
    formatCanonical(startMs) +
    '","call-ringing-datetime":null' +
    ',"call-answer-datetime":' +
    (answerMs === null ? 'null' : '"' + formatCanonical(answerMs) + '"') +
    ',"call-disconnect-datetime":"' +
    formatCanonical(endMs) +
    '","call-record-creation-datetime":null' +
    ',"call-total-duration-seconds":' +
    intJson(total, asText) +
    ',"call-talking-duration-seconds":' +
    intJson(talk, asText) +
    ',"call-on-hold-duration-seconds":' +
    intJson(onHold, asText) +
    ',"call-disconnect-reason-text":"' +
    reason +
    '"' +
    ',"call-orig-user":' +
    origUserJson +
    ',"call-orig-caller-id":"' +
    callerId +
    '","call-orig-from-name":' +
    JSON.stringify(fromName) +
    ',"call-orig-from-user":"' +
    callerId +
    '"' +
    ',"call-orig-from-host":' +
    (inboundOrig ? '"carrier.example"' : d.domain) +
    ',"call-orig-to-user":"' +
    toUser +
    '","call-orig-request-user":"' +
    toUser +
    '","call-orig-request-host":' +
    d.domain +
    ',"call-orig-domain":' +
    (inboundOrig ? '"Call-Inbound"' : d.domain) +
    ',"call-orig-reseller":' +
    d.reseller +
    ',"call-orig-site":' +
    (origIsUser && user ? JSON.stringify(user.site) : 'null') +
    ',"call-orig-department":' +
    (origIsUser && user ? JSON.stringify(user.department) : '""') +
    ',"call-orig-ip-address":"' +
    origIp +
    '"' +
    ',"call-term-user":' +
    (termUser === null ? 'null' : '"' + termUser + '"') +
    ',"call-term-caller-id":"' +
    (outbound ? callerId : toUser) +
    '","call-term-to-uri":' +
    JSON.stringify(termToUri) +
    ',"call-term-domain":' +
    (termDomain === '*' ? '"*"' : d.domain) +
    ',"call-term-site":null,"call-term-department":null' +
    ',"call-term-ip-address":"' +
    termIp +
    '"' +
    ',"call-orig-call-id":' +
    JSON.stringify(p.callId) +
    ',"call-term-call-id":"' +
    p.callId.slice(0, 8) +
    '-t' +
    p.id.slice(-4) +
    '"' +
    ',"call-parent-call-id":' +
    (parent ? JSON.stringify(parent.callId) : '""') +
    ',"call-parent-cdr-id":"' +
    (parent ? parent.id : '') +
    '"' +
    ',"call-leg-ordinal-index":' +
    (parent ? 1 : 0) +
    ',"call-account-code":' +
    accountCode +
    ',"call-routing-class":' +
    routingClass +
    ',"call-tag":"","call-audio-codec":"' +
    codec +
    '","hide-from-results":0' +
    // Fields the pipeline does not interpret: they must come through ingest unchanged.
    ',"call-batch-sequence-marker":"' +
    p.id.slice(0, 8) +
    '-' +
    p.id.slice(-3) +
    '"' +
    ',"call-intelligence-percent-positive":"' +
    sentiment +
    '","call-video-codec":null,"call-fax-codec":null,"call-through-action":""' +
    ',"call-server-mac-address":"00:16:3e:2a:7b:10","core-server":' +
    d.coreServer +
    ',"is-trace-expected":false}';
  const entry: CdrEntry = {
    id: p.id,
    startMs,
    endMs,
    seconds: total,
    direction,
    buf: EMPTY,
    off: 0,
    len: 0,
    lateU: rng.next(),
    updateU: rng.next(),
    generated: true,
  };
  return { entry, json };
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
