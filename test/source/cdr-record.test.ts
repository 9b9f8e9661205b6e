import { describe, expect, it } from 'vitest';
import { cdrRecordSchema, validateCdr } from '../../pipeline/source/cdr-record.ts';
import { sampleCdr } from './fixtures.ts';

describe('validateCdr', () => {
  it('accepts a record and lifts typed fields without copying it', () => {
    const raw = sampleCdr();
    const v = validateCdr(raw);
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.cdr.raw).toBe(raw);
    expect(v.cdr).toMatchObject({
      id: '1764248400abc',
      durationS: 125,
      talkS: 120,
      holdS: 0,
      directionCode: 0,
      direction: 'outbound',
      origUser: '101',
      termUser: null,
      callerNumber: '2125550101',
      dialedNumber: '14155550123',
    });
    expect(v.cdr.startTime.toISOString()).toBe('2026-11-27T13:00:00.000Z');
    expect(v.cdr.answerTime?.toISOString()).toBe('2026-11-27T13:00:05.000Z');
    expect(v.cdr.endTime?.toISOString()).toBe('2026-11-27T13:02:05.000Z');
  });

  it('converts numeric ids, numeric-string durations and directions, and numeric users', () => {
    const v = validateCdr(
      sampleCdr({
        id: 42,
        'call-total-duration-seconds': '125',
        'call-talking-duration-seconds': '0',
        'call-on-hold-duration-seconds': '7.00',
        'call-direction': '2',
        'call-orig-user': 101,
        'call-orig-to-user': undefined,
        'call-orig-request-user': '911',
      }),
    );
    expect(v.ok && v.cdr).toMatchObject({
      id: '42',
      durationS: 125,
      talkS: 0,
      holdS: 7,
      directionCode: 2,
      direction: 'missed',
      origUser: '101',
      dialedNumber: '911',
    });
  });

  it('keeps unparseable answer/disconnect times as null (passthrough), missing talk/hold as null', () => {
    const raw = sampleCdr({ 'call-answer-datetime': '0000-00-00 00:00:00', 'call-disconnect-datetime': null });
    delete raw['call-talking-duration-seconds'];
    delete raw['call-on-hold-duration-seconds'];
    const v = validateCdr(raw);
    expect(v.ok && v.cdr).toMatchObject({ answerTime: null, endTime: null, talkS: null, holdS: null });
  });

  it('reads every datetime form in call-start-datetime', () => {
    for (const [text, iso] of [
      ['2026-11-27 13:00:00', '2026-11-27T13:00:00.000Z'],
      ['2026-11-27T13:00:00Z', '2026-11-27T13:00:00.000Z'],
      ['2026-11-27T05:00:00-08:00', '2026-11-27T13:00:00.000Z'],
      ['2026-11-27T05:00:00-08:00[US/Pacific]', '2026-11-27T13:00:00.000Z'],
      ['2026-11-27T13:00:00.250Z', '2026-11-27T13:00:00.250Z'],
    ] as const) {
      const v = validateCdr(sampleCdr({ 'call-start-datetime': text }));
      expect(v.ok && v.cdr.startTime.toISOString()).toBe(iso);
    }
    const zoned = validateCdr(sampleCdr({ 'call-start-datetime': '2026-11-27 08:00:00' }), 'America/New_York');
    expect(zoned.ok && zoned.cdr.startTime.toISOString()).toBe('2026-11-27T13:00:00.000Z');
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['null', null, /not a JSON object/],
    ['an array', [1, 2], /not a JSON object.*array/],
    ['a string', 'x', /not a JSON object.*string/],
    ['missing id', sampleCdr({ id: undefined }), /^id: /],
    ['empty id', sampleCdr({ id: '  ' }), /^id: /],
    ['fractional id', sampleCdr({ id: 1.5 }), /^id: /],
    ['object id', sampleCdr({ id: { a: 1 } }), /^id: /],
    ['missing start', sampleCdr({ 'call-start-datetime': undefined }), /call-start-datetime/],
    ['bad start', sampleCdr({ 'call-start-datetime': 'yesterday' }), /call-start-datetime: is not a datetime/],
    ['epoch start', sampleCdr({ 'call-start-datetime': 1764248400 }), /call-start-datetime/],
    ['negative duration', sampleCdr({ 'call-total-duration-seconds': -1 }), /call-total-duration-seconds/],
    ['fractional duration', sampleCdr({ 'call-total-duration-seconds': 1.5 }), /call-total-duration-seconds/],
    ['text duration', sampleCdr({ 'call-total-duration-seconds': '12s' }), /call-total-duration-seconds/],
    ['fractional string duration', sampleCdr({ 'call-total-duration-seconds': '12.5' }), /call-total-duration-seconds/],
    ['exponent string duration', sampleCdr({ 'call-total-duration-seconds': '1e3' }), /call-total-duration-seconds/],
    ['negative string duration', sampleCdr({ 'call-total-duration-seconds': '-3' }), /call-total-duration-seconds/],
    ['missing duration', sampleCdr({ 'call-total-duration-seconds': undefined }), /call-total-duration-seconds/],
    ['bad talk', sampleCdr({ 'call-talking-duration-seconds': 'x' }), /call-talking-duration-seconds/],
    ['bad hold', sampleCdr({ 'call-on-hold-duration-seconds': -2 }), /call-on-hold-duration-seconds/],
    ['direction 4', sampleCdr({ 'call-direction': 4 }), /call-direction/],
    ['direction "9"', sampleCdr({ 'call-direction': '9' }), /call-direction/],
    ['direction text', sampleCdr({ 'call-direction': 'inbound' }), /call-direction/],
    ['missing direction', sampleCdr({ 'call-direction': undefined }), /call-direction/],
  ];
  it.each(bad)('rejects %s with a reason naming the field', (_label, value, reason) => {
    const v = validateCdr(value);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.reason).toMatch(reason);
  });

  it('agrees with the zod schema on every case (fast path and schema are the same rules)', () => {
    const cases: unknown[] = [
      ...bad.map(([, v]) => v),
      sampleCdr(),
      sampleCdr({ id: 7, 'call-direction': '3', 'call-total-duration-seconds': '0' }),
      sampleCdr({ 'call-talking-duration-seconds': null, 'call-on-hold-duration-seconds': undefined }),
      sampleCdr({ 'call-start-datetime': '2026-11-27T13:00:00-08:00[US/Pacific]' }),
      sampleCdr({ id: Number.MAX_SAFE_INTEGER + 2 }),
      sampleCdr({ 'call-total-duration-seconds': 1e300 }),
    ];
    for (const c of cases) {
      expect({ c, ok: validateCdr(c).ok }).toEqual({ c, ok: cdrRecordSchema.safeParse(c).success });
    }
  });
});
