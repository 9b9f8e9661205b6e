/**
 * One generated CDR: its call details drawn from the day's PRNG and serialized, once, in the v2
 * key order with canonical `...Z` datetimes.
 */
import type { DomainProfile } from './domain-gen.ts';
import type { Prng } from './prng.ts';
import { formatCanonical } from './datetime-format.ts';
import { CALL_DIRECTION, EMPTY_BUFFER, type CdrEntry } from './cdr-entry.ts';
import { CALLER_NAMES, CODECS, HOSTILE_CALLER_NAMES, nanp, outboundDestination, talkSeconds } from './cdr-vocabulary.ts';

/** The kind of call drawn; `noise` is a zero-length leg nobody would bill. */
export type Kind = 'outbound' | 'inbound' | 'missed' | 'internal' | 'noise';

/** A call placed in the day before its details are drawn. */
export interface Proto {
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

function intJson(v: number, asText: boolean): string {
  return asText ? '"' + v + '"' : String(v);
}

/** Draws one call's details and serializes its record; the entry's bytes are packed later (packDay). */
export function buildEntry(profile: DomainProfile, p: Proto, rng: Prng): { entry: CdrEntry; json: string } {
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
    buf: EMPTY_BUFFER,
    off: 0,
    len: 0,
    lateU: rng.next(),
    updateU: rng.next(),
    generated: true,
  };
  return { entry, json };
}
