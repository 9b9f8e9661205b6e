import { describe, expect, it } from 'vitest';
import { parseRetryAfter, retryDelay, retryReasonForStatus, slowsEveryone } from '../../pipeline/source/retry-policy.ts';
import { fullJitterDelay } from '../../pipeline/util/backoff.ts';

const NOW = Date.parse('2026-11-27T13:00:00Z');

describe('parseRetryAfter', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter('7', NOW)).toBe(7000);
    expect(parseRetryAfter(' 120 ', NOW)).toBe(120_000);
    expect(parseRetryAfter('1.5', NOW)).toBe(1500);
  });
  it('reads HTTP dates relative to the injected now', () => {
    expect(parseRetryAfter('Fri, 27 Nov 2026 13:00:30 GMT', NOW)).toBe(30_000);
    expect(parseRetryAfter('Friday, 27-Nov-26 13:01:00 GMT', NOW)).toBe(60_000);
    expect(parseRetryAfter('Fri Nov 27 13:00:05 2026 GMT', NOW)).toBe(5_000);
    expect(parseRetryAfter('Fri Nov  7 13:00:05 2026', Date.parse('2026-11-07T13:00:00Z'))).toBe(5_000);
    expect(parseRetryAfter('fri, 27 nov 2026 13:00:30 gmt', NOW)).toBe(30_000);
    expect(parseRetryAfter('2026-11-27T13:00:10Z', NOW)).toBe(10_000);
    expect(parseRetryAfter('2026-11-27T05:00:10-08:00', NOW)).toBe(10_000);
  });
  it('treats a date in the past as "now"', () => {
    expect(parseRetryAfter('Fri, 27 Nov 2026 12:00:00 GMT', NOW)).toBe(0);
  });
  it('returns null for absent or unreadable values', () => {
    for (const v of [
      null,
      undefined,
      '',
      '   ',
      '-1',
      'soon',
      '1e3',
      '5 seconds',
      'Fri, 99 Nov 2026 13:00:00 GMT',
      'Fri, 31 Nov 2026 13:00:00 GMT',
      'Fri, 27 Foo 2026 13:00:00 GMT',
      'Fri, 27 Nov 2026 13:00:00 PST',
      '2026-11-27 13:00:10',
      '12:00',
    ]) {
      expect(parseRetryAfter(v, NOW)).toBeNull();
    }
  });
});

describe('backoff', () => {
  const settings = { baseDelayMs: 100, maxDelayMs: 1000, retryAfterCapMs: 5000 };
  it('full jitter draws uniformly from [0, min(cap, base*2^n)]', () => {
    expect(fullJitterDelay(0, settings, () => 0)).toBe(0);
    expect(fullJitterDelay(0, settings, () => 0.999999)).toBe(100);
    expect(fullJitterDelay(1, settings, () => 0.999999)).toBe(200);
    expect(fullJitterDelay(3, settings, () => 0.5)).toBe(400);
    expect(fullJitterDelay(10, settings, () => 0.999999)).toBe(1000);
    expect(fullJitterDelay(1000, settings, () => 0.999999)).toBe(1000);
  });
  it('honours Retry-After up to the cap, and falls back to jitter without one', () => {
    expect(retryDelay(0, 3000, settings, () => 0.5)).toBe(3000);
    expect(retryDelay(0, 60_000, settings, () => 0.5)).toBe(5000);
    expect(retryDelay(0, 0, settings, () => 0.5)).toBe(0);
    expect(retryDelay(2, null, settings, () => 0.5)).toBe(200);
  });
  it('retries 429, 408 and 5xx (not 501/505), and only 429/5xx slow everybody down', () => {
    expect(retryReasonForStatus(429)).toBe('429');
    expect(retryReasonForStatus(500)).toBe('5xx');
    expect(retryReasonForStatus(503)).toBe('5xx');
    expect(retryReasonForStatus(504)).toBe('5xx');
    expect(retryReasonForStatus(408)).toBe('timeout');
    for (const s of [200, 301, 400, 401, 403, 404, 409, 422, 501, 505]) expect(retryReasonForStatus(s)).toBeNull();
    expect(slowsEveryone('429')).toBe(true);
    expect(slowsEveryone('5xx')).toBe(true);
    expect(slowsEveryone('network')).toBe(false);
    expect(slowsEveryone('timeout')).toBe(false);
    expect(slowsEveryone('bad-body')).toBe(false);
  });
});
