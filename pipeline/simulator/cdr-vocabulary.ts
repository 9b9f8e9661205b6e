/**
 * What generated calls are made of: caller names, number plans, codecs, and the draws of dialled
 * numbers and talk time.
 */
import type { DomainProfile } from './domain-gen.ts';
import type { Prng } from './prng.ts';

/** Ordinary caller names on inbound calls. */
export const CALLER_NAMES = [
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
/** Audio codecs, weighted by repetition. */
export const CODECS = ['PCMU', 'PCMU', 'G722', 'opus', 'G729'] as const;

/** An 11-digit NANP number, in `area` or a random area code. */
export function nanp(rng: Prng, area?: string): string {
  return `1${area ?? rng.pick(NANP_AREA_CODES)}${rng.int(200, 999)}${rng.digits(4)}`;
}

/** Dialled digits as users type them: 10 or 11 digits, sometimes E.164. */
function dialled(rng: Prng, e164ish: string): string {
  const r = rng.next();
  if (r < 0.45) return e164ish.slice(1);
  if (r < 0.9) return e164ish;
  return '+' + e164ish;
}

/** Where an outbound call goes: local, national, toll-free, international, premium or 911. */
export function outboundDestination(rng: Prng, profile: DomainProfile): { dialled: string; short: boolean } {
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
export function talkSeconds(rng: Prng): number {
  return Math.max(1, Math.min(14_400, Math.round(Math.exp(4.4 + 1.2 * rng.normal()))));
}
