/** Page garbage is collected after a fixed number of bytes, not when V8's growing limit says. */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { HeapGarbage } from '../../pipeline/util/heap-garbage.ts';

/** A large string (V8's large-object space, freed only by a full collection) that only a weak reference sees. */
function droppedPage(): WeakRef<{ body: string }> {
  return new WeakRef({ body: 'x'.repeat(2 * 2 ** 20) + String(Math.random()) });
}

describe('HeapGarbage', () => {
  it('runs a full collection after each bound of bytes noted, which frees the pages dropped before it', async () => {
    const garbage = new HeapGarbage(4 * 2 ** 20);
    const page = droppedPage();
    // A weak reference keeps its target until the end of the turn that made it.
    await nextTurn();
    garbage.add(3 * 2 ** 20);
    expect(garbage.collections).toBe(0);
    garbage.add(2 * 2 ** 20);
    expect(garbage.collections).toBe(1);
    expect(page.deref()).toBeUndefined();
    garbage.add(2 ** 20);
    expect(garbage.collections).toBe(1);
  });

  it('collects on demand (the end of the fetching) and starts counting afresh', async () => {
    const garbage = new HeapGarbage(4 * 2 ** 20);
    garbage.add(3 * 2 ** 20);
    const page = droppedPage();
    await nextTurn();
    garbage.collect();
    expect(garbage.collections).toBe(1);
    expect(page.deref()).toBeUndefined();
    // The 3 MiB counted before are gone with the collection: 3 more do not reach the bound.
    garbage.add(3 * 2 ** 20);
    expect(garbage.collections).toBe(1);
  });

  it('refuses a bound that is not a positive number of bytes', () => {
    expect(() => new HeapGarbage(0)).toThrow(/positive number of bytes/);
  });
});
