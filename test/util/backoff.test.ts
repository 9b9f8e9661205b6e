import { describe, expect, it } from 'vitest';
import { fullJitterDelay } from '../../pipeline/util/backoff.ts';

describe('shared backoff (full jitter)', () => {
  const settings = { baseDelayMs: 100, maxDelayMs: 1000 };

  it('draws from the whole range [0, min(max, base * 2^retry)], both bounds reachable', () => {
    for (const [retry, ceiling] of [
      [0, 100],
      [1, 200],
      [2, 400],
      [3, 800],
      [4, 1000],
      [40, 1000],
    ] as const) {
      expect(fullJitterDelay(retry, settings, () => 0)).toBe(0);
      expect(fullJitterDelay(retry, settings, () => 0.9999999)).toBe(ceiling);
    }
    // The middle of the draw lands in the middle of the range (not its upper half, as equal jitter would).
    expect(fullJitterDelay(1, settings, () => 0.25)).toBe(50);
  });

  it('never leaves the bounds, whatever the random source returns', () => {
    let seed = 7;
    const lcg = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let retry = 0; retry < 50; retry++) {
      const ceiling = Math.min(1000, 100 * 2 ** retry);
      for (let i = 0; i < 50; i++) {
        const d = fullJitterDelay(retry, settings, lcg);
        expect(Number.isInteger(d)).toBe(true);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(ceiling);
      }
    }
    expect(fullJitterDelay(2, settings, () => 1)).toBeLessThanOrEqual(400);
    expect(fullJitterDelay(2, settings, () => -0.5)).toBe(0);
    expect(fullJitterDelay(-1, settings, () => 0.9999999)).toBe(100);
  });
});
