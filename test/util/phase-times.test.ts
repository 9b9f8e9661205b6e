/** Phase timing: every run of a phase is counted (also one that throws), in the order phases first ran; without a timer the step just runs. */
import { describe, expect, it } from 'vitest';
import { PhaseTimes, timed, timedSync } from '../../pipeline/util/phase-times.ts';

describe('PhaseTimes', () => {
  it('sums each phase over its runs, including runs that throw', async () => {
    const times = new PhaseTimes();
    expect(await timed(times, 'b', async () => 1)).toBe(1);
    expect(timedSync(times, 'a', () => 2)).toBe(2);
    await timed(times, 'b', async () => 3);
    expect(() =>
      timedSync(times, 'a', () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    await expect(
      timed(times, 'c', async () => {
        throw new Error('late');
      }),
    ).rejects.toThrow('late');
    expect([...times.phases.keys()]).toEqual(['b', 'a', 'c']);
    expect(Object.fromEntries([...times.phases].map(([k, v]) => [k, v.count]))).toEqual({ b: 2, a: 2, c: 1 });
    for (const t of times.phases.values()) expect(t.ms >= 0 && t.cpuMs >= 0).toBe(true);
    expect(Object.keys(times.toJSON())).toEqual(['b', 'a', 'c']);
  });

  it('runs the step alone when no timer is given', async () => {
    expect(await timed(undefined, 'x', async () => 'ok')).toBe('ok');
    expect(timedSync(undefined, 'x', () => 'ok')).toBe('ok');
  });
});
