import { describe, expect, it } from 'vitest';
import { parseTokenAnswer } from '../../pipeline/source/auth.ts';
import { BackoffGate } from '../../pipeline/source/backoff-gate.ts';
import { RateLimiter } from '../../pipeline/source/rate-limiter.ts';
import { BodyShapeError, NetSapiensHttpError, readServerError } from '../../pipeline/source/source-errors.ts';
import { virtualTime } from './helpers.ts';

const T0 = new Date('2026-11-27T12:00:00Z');

describe('BackoffGate', () => {
  it('is open until closed; waiters wait out the longest pause', async () => {
    const t = virtualTime(T0);
    const gate = new BackoffGate(t.clock, t.sleep);
    expect(await gate.wait()).toBe(0);
    gate.closeFor(300);
    gate.closeFor(100); // never shortens
    expect(gate.remainingMs()).toBe(300);
    expect(await gate.wait()).toBe(300);
    expect(gate.remainingMs()).toBe(0);
    expect(t.sleeps).toEqual([300]);
  });
  it('re-checks after sleeping, because another request may extend the pause meanwhile', async () => {
    const t = virtualTime(T0);
    let gate: BackoffGate | undefined = undefined;
    let extended = false;
    const sleep = async (ms: number) => {
      await t.sleep(ms);
      if (!extended) {
        extended = true;
        gate!.closeFor(50);
      }
    };
    gate = new BackoffGate(t.clock, sleep);
    gate.closeFor(100);
    expect(await gate.wait()).toBe(150);
  });
});

describe('RateLimiter', () => {
  it('spaces sends 1/rps apart, in arrival order', async () => {
    const t = virtualTime(T0);
    const limiter = new RateLimiter(10, t.clock, t.sleep);
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3].map((i) => limiter.acquire().then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3]);
    // Slots at 0, 100, 200, 300 ms. The virtual sleep moves the shared clock as each caller
    // claims its slot, so each waits 100 ms more than the one before it started waiting.
    expect(t.sleeps).toEqual([100, 100, 100]);
    expect(t.clock.now().getTime() - T0.getTime()).toBe(300);
    await limiter.acquire();
    expect(t.clock.now().getTime() - T0.getTime()).toBe(400);
  });
  it('refuses a non-positive rate', () => {
    const t = virtualTime(T0);
    expect(() => new RateLimiter(0, t.clock, t.sleep)).toThrow(RangeError);
  });
});

describe('parseTokenAnswer', () => {
  it('reads access_token, expires_in (number or string) and refresh_token', () => {
    expect(parseTokenAnswer('{"access_token":"a.b.c","expires_in":3600,"refresh_token":"r","token_type":"Bearer"}')).toEqual({
      accessToken: 'a.b.c',
      expiresInSeconds: 3600,
      refreshToken: 'r',
    });
    expect(parseTokenAnswer('{"access_token":"x","expires_in":"120"}')).toEqual({
      accessToken: 'x',
      expiresInSeconds: 120,
      refreshToken: undefined,
    });
  });
  it('assumes a short life when expires_in is missing or nonsense', () => {
    expect(parseTokenAnswer('{"access_token":"x"}').expiresInSeconds).toBe(300);
    expect(parseTokenAnswer('{"access_token":"x","expires_in":-5}').expiresInSeconds).toBe(300);
  });
  it.each(['', '{"access_token":', '[]', '{"token":"x"}', '{"access_token":""}'])('treats %j as an unusable body (retried)', (body) => {
    expect(() => parseTokenAnswer(body)).toThrow(BodyShapeError);
  });
});

describe('server error bodies', () => {
  it('reads {code,message}, {error} and plain text', () => {
    expect(readServerError('{"code":403,"message":"Domain not found or access denied"}')).toEqual({
      code: 403,
      message: 'Domain not found or access denied',
    });
    expect(readServerError('{"error":"invalid_grant","error_description":"bad password"}')).toEqual({
      error: 'invalid_grant',
      message: 'bad password',
    });
    expect(readServerError('<html>Bad Gateway</html>')).toEqual({ message: '<html>Bad Gateway</html>' });
    expect(readServerError('')).toBeUndefined();
    expect(readServerError('{}')).toBeUndefined();
  });
  it('NetSapiensHttpError redacts bearer tokens and credentials in what the server echoed', () => {
    const e = new NetSapiensHttpError(400, 'GET', '/domains?x=1', { message: 'bad header Bearer abc.def.ghi password=hunter2' }, 1);
    expect(e.message).toBe('NetSapiens API GET /domains?x=1 answered HTTP 400: bad header Bearer *** password=***');
    expect(e.message).not.toMatch(/abc\.def|hunter2/);
  });
});
