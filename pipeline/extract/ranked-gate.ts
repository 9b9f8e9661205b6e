/**
 * At most `capacity` tasks at a time; when one ends, the waiting task with the lowest rank starts
 * next (submission order among equal ranks). The ingest ranks a window's requests by its domain's
 * turn: with C requests in flight, the domains taken first finish first, so their partitions are
 * written while later domains are still being fetched, instead of every partition completing at
 * the end of the run (as a first-come queue across round-robin windows has it).
 */
export class RankedGate {
  private active = 0;
  private seq = 0;
  /** Waiting tasks, lowest (rank, seq) first. */
  private readonly waiting: { rank: number; seq: number; start: () => void }[] = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`a ranked gate needs a whole capacity >= 1, got ${capacity}`);
  }

  /** Runs `fn` once fewer than `capacity` tasks run and no waiting task ranks before it. */
  async run<T>(rank: number, fn: () => Promise<T>): Promise<T> {
    if (this.active < this.capacity) this.active++;
    else await this.wait(rank);
    try {
      return await fn();
    } finally {
      // The slot passes straight to the next task: `active` only falls when nobody waits.
      const next = this.waiting.shift();
      if (next) next.start();
      else this.active--;
    }
  }

  /** Tasks waiting for a slot. */
  get pending(): number {
    return this.waiting.length;
  }

  private wait(rank: number): Promise<void> {
    const seq = this.seq++;
    return new Promise((start) => {
      let i = this.waiting.length;
      while (i > 0 && this.waiting[i - 1]!.rank > rank) i--;
      this.waiting.splice(i, 0, { rank, seq, start });
    });
  }
}
