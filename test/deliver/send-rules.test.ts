import { describe, expect, it } from 'vitest';
import { decideSend, type SendRow } from '../../pipeline/deliver/send-log.ts';
import { isTransientSmtpError, withRetry } from '../../pipeline/deliver/retry.ts';

const row = (status: SendRow['status'], transport: string | null = 'smtp'): SendRow => ({
  report: 'monthly-usage',
  domain: 'a.example',
  month: '2026-10',
  recipient: 'x@a.example',
  status,
  message_id: null,
  attempts: 1,
  error: null,
  transport,
  response: null,
  updated_at: '2026-11-01 06:00:00+00',
});

describe('send decisions', () => {
  it.each([
    [undefined, false, 'smtp', 'send'],
    [row('confirmed'), false, 'smtp', 'skip'],
    [row('sent', 'outbox'), false, 'outbox', 'skip'],
    [row('sent', 'outbox'), false, 'smtp', 'send'], // an .eml reached nobody
    [row('confirmed', 'smtp'), false, 'outbox', 'skip'],
    [row('pending'), false, 'smtp', 'maybe-sent'],
    [row('failed'), false, 'smtp', 'send'],
    [row('confirmed'), true, 'smtp', 'send'],
    [row('pending'), true, 'smtp', 'send'],
  ] as const)('%j force=%s via %s -> %s', (r, force, transportKind, expected) => {
    expect(decideSend(r, { force, transportKind })).toBe(expected);
  });
});

describe('retry policy', () => {
  it('retries 4xx and connection errors, not 5xx or unknown errors', () => {
    expect(isTransientSmtpError({ responseCode: 421 })).toBe(true);
    expect(isTransientSmtpError({ responseCode: 451, code: 'EENVELOPE' })).toBe(true);
    expect(isTransientSmtpError({ responseCode: 550, code: 'EENVELOPE' })).toBe(false);
    expect(isTransientSmtpError({ responseCode: 535, code: 'EAUTH' })).toBe(false);
    expect(isTransientSmtpError({ code: 'ECONNECTION' })).toBe(true);
    expect(isTransientSmtpError({ code: 'ETIMEDOUT' })).toBe(true);
    expect(isTransientSmtpError(new TypeError('bug'))).toBe(false);
    expect(isTransientSmtpError(null)).toBe(false);
  });
  it('backs off exponentially with full jitter (anywhere from 0 up to the doubling ceiling), capped', async () => {
    const transient = () => Promise.reject(Object.assign(new Error('busy'), { responseCode: 451 }));
    const waitsWith = async (random: () => number) => {
      const waits: number[] = [];
      const sleep = async (ms: number) => void waits.push(ms);
      await expect(withRetry(transient, { attempts: 5, baseDelayMs: 100, maxDelayMs: 300, sleep, random })).rejects.toMatchObject({
        attempts: 5,
      });
      return waits;
    };
    expect(await waitsWith(() => 0)).toEqual([0, 0, 0, 0]);
    expect(await waitsWith(() => 0.999999)).toEqual([100, 200, 300, 300]);
  });
  it('stops after the attempts, on permanent errors at once, and reports the tries used', async () => {
    const waits: number[] = [];
    const sleep = async (ms: number) => void waits.push(ms);
    let calls = 0;
    const transient = () => Promise.reject(Object.assign(new Error('busy'), { responseCode: 451 }));
    await expect(withRetry(() => (calls++, transient()), { attempts: 3, baseDelayMs: 10, maxDelayMs: 100, sleep })).rejects.toMatchObject({
      attempts: 3,
    });
    expect(calls).toBe(3);
    expect(waits).toHaveLength(2);
    calls = 0;
    const permanent = () => Promise.reject(Object.assign(new Error('no such user'), { responseCode: 550 }));
    await expect(withRetry(() => (calls++, permanent()), { attempts: 3, baseDelayMs: 10, maxDelayMs: 100, sleep })).rejects.toMatchObject({
      attempts: 1,
    });
    expect(calls).toBe(1);
    let n = 0;
    const flaky = () => (++n < 3 ? Promise.reject(Object.assign(new Error('x'), { code: 'ECONNECTION' })) : Promise.resolve('ok'));
    await expect(withRetry(flaky, { attempts: 4, baseDelayMs: 1, maxDelayMs: 1, sleep })).resolves.toEqual({ value: 'ok', attempts: 3 });
  });
});
