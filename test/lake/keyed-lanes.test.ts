import { describe, expect, it } from 'vitest';
import { KeyedLanes } from '../../pipeline/lake/keyed-lanes.ts';
import { Db, isOutOfMemoryError } from '../../pipeline/db/duckdb.ts';

/** A promise with its resolver, to decide by hand when a task finishes. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('KeyedLanes', () => {
  it('runs tasks with different keys side by side, one per resource', async () => {
    const lanes = new KeyedLanes(['a', 'b']);
    const started: string[] = [];
    const g = [gate(), gate(), gate()];
    const runs = ['k1', 'k2', 'k3'].map((key, i) =>
      lanes.run(key, async (r) => {
        started.push(`${key}@${r}`);
        await g[i]!.promise;
        return key;
      }),
    );
    await tick();
    // Two resources: the third task waits for one to come free.
    expect(started).toHaveLength(2);
    g[0]!.open();
    await runs[0];
    await tick();
    expect(started).toHaveLength(3);
    // It got the resource the first task released.
    expect(started[2]!.split('@')[1]).toBe(started[0]!.split('@')[1]);
    g[1]!.open();
    g[2]!.open();
    expect(await Promise.all(runs)).toEqual(['k1', 'k2', 'k3']);
  });

  it("runs a task's `then` step without its resource but before the next task of its key", async () => {
    const lanes = new KeyedLanes(['only']);
    const log: string[] = [];
    const thenGate = gate();
    const first = lanes.run(
      'k',
      async () => {
        log.push('k#1 on resource');
        return 1;
      },
      {
        then: async (v) => {
          log.push('k#1 then');
          await thenGate.promise;
          log.push('k#1 then done');
          return v * 10;
        },
      },
    );
    const second = lanes.run('k', async () => {
      log.push('k#2 on resource');
      return 2;
    });
    const other = lanes.run('other', async () => {
      log.push('other on resource');
      return 3;
    });
    await tick();
    await tick();
    // The one resource went to another key while k#1 was in its `then` step; k#2 still waits.
    expect(log).toEqual(['k#1 on resource', 'k#1 then', 'other on resource']);
    thenGate.open();
    expect(await Promise.all([first, second, other])).toEqual([10, 2, 3]);
    expect(log).toEqual(['k#1 on resource', 'k#1 then', 'other on resource', 'k#1 then done', 'k#2 on resource']);
  });

  it('gives a free resource to the heaviest waiting task, in submission order among equals', async () => {
    const lanes = new KeyedLanes(['only']);
    const started: string[] = [];
    const hold = gate();
    const first = lanes.run('busy', async () => {
      await hold.promise;
    });
    const runs = [
      ['light', 1],
      ['heavy', 9],
      ['mid-a', 5],
      ['none', 0],
      ['mid-b', 5],
    ].map(([key, weight]) => lanes.run(key as string, async () => void started.push(key as string), { weight: weight as number }));
    await tick();
    expect(started).toEqual([]);
    hold.open();
    await Promise.all([first, ...runs]);
    expect(started).toEqual(['heavy', 'mid-a', 'mid-b', 'light', 'none']);
  });

  it('runs tasks with one key strictly in submission order, never together', async () => {
    const lanes = new KeyedLanes(['a', 'b', 'c']);
    const log: string[] = [];
    let active = 0;
    const task = (name: string, ms: number) =>
      lanes.run('same', async () => {
        active++;
        expect(active).toBe(1);
        log.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`end ${name}`);
        active--;
      });
    await Promise.all([task('1', 15), task('2', 1), task('3', 5)]);
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
  });

  it('a failed task neither blocks its key nor loses its resource', async () => {
    const lanes = new KeyedLanes(['only']);
    const failed = lanes.run('k', async () => {
      throw new Error('boom');
    });
    const next = lanes.run('k', async (r) => `after on ${r}`);
    const other = lanes.run(undefined, async (r) => `other on ${r}`);
    await expect(failed).rejects.toThrow('boom');
    expect(await next).toBe('after on only');
    expect(await other).toBe('other on only');
  });

  it('idle() waits for every task submitted so far', async () => {
    const lanes = new KeyedLanes([1]);
    const done: number[] = [];
    for (const n of [1, 2, 3])
      void lanes.run(undefined, async () => {
        await new Promise((r) => setTimeout(r, 5));
        done.push(n);
      });
    await lanes.idle();
    expect(done).toEqual([1, 2, 3]);
  });

  it('refuses an empty resource list', () => {
    expect(() => new KeyedLanes([])).toThrow(/at least one resource/);
  });
  it('runs a task once more with every resource held after an error it may retry alone, once the others finish', async () => {
    const lanes = new KeyedLanes(['a', 'b']);
    let running = 0;
    let aloneWithOthers = false;
    const other = gate();
    const log: string[] = [];
    let attempts = 0;
    const retried = lanes.run(
      'k1',
      async () => {
        attempts++;
        if (attempts === 1) {
          log.push('k1 out of memory');
          throw new Error('Out of Memory Error: failed to allocate');
        }
        if (running > 0) aloneWithOthers = true;
        log.push('k1 alone');
        return 'k1';
      },
      { retryAlone: (err) => err instanceof Error && err.message.startsWith('Out of Memory') },
    );
    const busy = lanes.run('k2', async () => {
      running++;
      log.push('k2 start');
      await other.promise;
      log.push('k2 end');
      running--;
      return 'k2';
    });
    await tick();
    await tick();
    // The retry waits for the task beside it: nothing has run alone yet.
    expect(log).not.toContain('k1 alone');
    // A task submitted now waits behind the retry.
    const later = lanes.run('k3', async () => {
      running++;
      log.push('k3');
      running--;
      return 'k3';
    });
    other.open();
    expect(await Promise.all([retried, busy, later])).toEqual(['k1', 'k2', 'k3']);
    expect(aloneWithOthers).toBe(false);
    expect(log.indexOf('k1 alone')).toBeGreaterThan(log.indexOf('k2 end'));
    expect(log.indexOf('k3')).toBeGreaterThan(log.indexOf('k1 alone'));
    expect(attempts).toBe(2);
  });

  it('passes on an error it may not retry', async () => {
    const lanes = new KeyedLanes(['a', 'b']);
    let attempts = 0;
    const failing = lanes.run(
      'k',
      async () => {
        attempts++;
        throw new Error('disk full');
      },
      { retryAlone: (err) => err instanceof Error && err.message.startsWith('Out of Memory') },
    );
    await expect(failing).rejects.toThrow('disk full');
    expect(attempts).toBe(1);
  });
  it("retries alone on DuckDB's real out-of-memory error, the predicate the lake writer gives it", async () => {
    // Two lanes, each a DuckDB connection with a memory cap too small for the first attempt's query.
    const dbs = await Promise.all([0, 1].map(() => Db.open(':memory:', { settings: { memory_limit: '8MB', threads: '1' } })));
    try {
      const lanes = new KeyedLanes(dbs);
      let attempts = 0;
      const value = await lanes.run(
        'k',
        async (db) => {
          attempts++;
          const sql = attempts === 1 ? "SELECT length(string_agg(i::VARCHAR, ',')) AS n FROM range(3000000) t(i)" : 'SELECT 7 AS n';
          const [row] = await db.all<{ n: bigint | number }>(sql);
          return Number(row!.n);
        },
        { retryAlone: isOutOfMemoryError },
      );
      expect({ value, attempts }).toEqual({ value: 7, attempts: 2 });
    } finally {
      for (const db of dbs) db.close();
    }
  });
});
