import { describe, expect, it } from 'vitest';
import { RankedGate } from '../../pipeline/extract/ranked-gate.ts';

/** A task that records when it starts and ends when `release` is called. */
function held(log: string[], name: string): { fn: () => Promise<string>; release: () => void } {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return {
    fn: async () => {
      log.push(name);
      await done;
      return name;
    },
    release: () => release(),
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('RankedGate', () => {
  it('runs at most its capacity at once and starts the lowest rank next, in submission order among equals', async () => {
    const gate = new RankedGate(2);
    const log: string[] = [];
    const a = held(log, 'a');
    const b = held(log, 'b');
    const late = held(log, 'late');
    const early1 = held(log, 'early1');
    const early2 = held(log, 'early2');
    const runs = [gate.run(0, a.fn), gate.run(0, b.fn), gate.run(5, late.fn), gate.run(1, early1.fn), gate.run(1, early2.fn)];
    await tick();
    expect(log).toEqual(['a', 'b']);
    expect(gate.pending).toBe(3);
    a.release();
    await tick();
    expect(log).toEqual(['a', 'b', 'early1']);
    b.release();
    early1.release();
    await tick();
    await tick();
    expect(log).toEqual(['a', 'b', 'early1', 'early2', 'late']);
    early2.release();
    late.release();
    expect(await Promise.all(runs)).toEqual(['a', 'b', 'late', 'early1', 'early2']);
    expect(gate.pending).toBe(0);
  });

  it('frees the slot when a task fails', async () => {
    const gate = new RankedGate(1);
    await expect(gate.run(0, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await gate.run(0, () => Promise.resolve(7))).toBe(7);
  });

  it('refuses a capacity below one', () => {
    expect(() => new RankedGate(0)).toThrow(/capacity/);
  });
});
