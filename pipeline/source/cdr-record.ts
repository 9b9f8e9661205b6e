import { z } from 'zod';
import { normalizeCdrId } from './cdr-id.ts';
import { parseNsDatetime } from './ns-datetime.ts';
import { CALL_DIRECTIONS, type ParsedCdr } from './types.ts';

/**
 * The rules a CDR must meet, as a compact zod schema: the few fields the pipeline computes
 * with are checked, every other field passes through untouched. Runtime validation uses the
 * hand-written fast path below (the same rules, ~no allocation); zod only words the reason for
 * records the fast path refused, and the tests hold the two to the same verdicts.
 */
const count = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^\d{1,15}(?:\.0+)?$/, { error: 'must be a non-negative whole number of seconds' }),
]);

export const cdrRecordSchema = z.looseObject({
  id: z.union([z.string().trim().min(1, { error: 'must not be empty or only white space' }), z.number().int()]),
  'call-start-datetime': z.string().refine((s) => parseNsDatetime(s) !== null, { error: 'is not a datetime the API writes' }),
  'call-total-duration-seconds': count,
  'call-talking-duration-seconds': count.nullish(),
  'call-on-hold-duration-seconds': count.nullish(),
  'call-direction': z.union([z.number().int().min(0).max(3), z.string().regex(/^[0-3]$/, { error: 'must be 0, 1, 2 or 3' })]),
});

export type CdrVerdict = { ok: true; cdr: ParsedCdr } | { ok: false; reason: string };

/** A whole number written as text: `42`, also `42.0` (some PBX versions serialise counts as decimals). */
const DIGITS_RE = /^\d{1,15}(?:\.0+)?$/;

function countOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  if (typeof v === 'string' && DIGITS_RE.test(v)) return +v;
  return undefined;
}

function optionalCount(v: unknown): number | null | undefined {
  return v === null || v === undefined ? null : countOf(v);
}

function text(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

function optionalDate(v: unknown, bareZone: string | undefined): Date | null {
  return typeof v === 'string' && v !== '' ? parseNsDatetime(v, bareZone === undefined ? undefined : { bareZone }) : null;
}

/**
 * Validates one array element of a CDR page. Cheap on the common path: type checks, one
 * datetime regex, no copies of the record.
 */
export function validateCdr(value: unknown, bareZone?: string): CdrVerdict {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: `not a JSON object (got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value})` };
  }
  const r = value as Record<string, unknown>;
  // The id the lake will store: duplicates are found on it, not on the text as received.
  const id = normalizeCdrId(r.id);
  if (id === undefined) return slowReason(r);

  const startText = r['call-start-datetime'];
  const startTime = typeof startText === 'string' ? parseNsDatetime(startText, bareZone === undefined ? undefined : { bareZone }) : null;
  if (startTime === null) return slowReason(r);

  const durationS = countOf(r['call-total-duration-seconds']);
  const talkS = optionalCount(r['call-talking-duration-seconds']);
  const holdS = optionalCount(r['call-on-hold-duration-seconds']);
  if (durationS === undefined || talkS === undefined || holdS === undefined) return slowReason(r);

  const rawDir = r['call-direction'];
  let directionCode: 0 | 1 | 2 | 3;
  if (rawDir === 0 || rawDir === 1 || rawDir === 2 || rawDir === 3) directionCode = rawDir;
  else if (rawDir === '0' || rawDir === '1' || rawDir === '2' || rawDir === '3') directionCode = +rawDir as 0 | 1 | 2 | 3;
  else return slowReason(r);

  return {
    ok: true,
    cdr: {
      id,
      startTime,
      answerTime: optionalDate(r['call-answer-datetime'], bareZone),
      endTime: optionalDate(r['call-disconnect-datetime'], bareZone),
      durationS,
      talkS,
      holdS,
      directionCode,
      direction: CALL_DIRECTIONS[directionCode],
      origUser: text(r['call-orig-user']),
      termUser: text(r['call-term-user']),
      callerNumber: text(r['call-orig-caller-id']),
      dialedNumber: text(r['call-orig-to-user']) ?? text(r['call-orig-request-user']),
      raw: r,
    },
  };
}

/** Words the reason with zod (only runs for refused records, so its cost does not matter). */
function slowReason(r: Record<string, unknown>): { ok: false; reason: string } {
  const parsed = cdrRecordSchema.safeParse(r);
  if (parsed.success) return { ok: false, reason: 'failed validation' };
  const reason = parsed.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(record)'}: ${i.message}`)
    .join('; ');
  return { ok: false, reason };
}
