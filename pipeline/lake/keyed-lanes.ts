/**
 * Runs async tasks on a fixed set of resources (the lake writer's DuckDB connections): at most
 * one task per resource at a time, and tasks that share a key strictly one after another, in the
 * order they were submitted. Tasks with different keys run side by side.
 *
 * The writer needs both: two merges of one partition must never race (each reads the old file
 * and renames its own result over it, so the second would drop the first's rows), while writes
 * of different partitions gain from running together.
 */
/** How KeyedLanes.run treats a task beyond its key. */
export interface RunOptions<T, U> {
  /**
   * Runs on `fn`'s result after the resource is handed back but before the next task with the
   * same key may start: work that needs the key's order but not the resource (the writer's fsync
   * and rename) does not keep a lane idle.
   */
  then?: (value: T) => Promise<U>;
  /**
   * When tasks wait for a resource, the one with the largest weight (say, its size) gets the next
   * one free, in submission order among equals: the longest tasks start first, so a batch does
   * not end with one long task running while the other resources idle. Default 0.
   */
  weight?: number;
  /**
   * An error after which `fn` runs once more with every resource held (no task beside it): the
   * writer's DuckDB memory cap is shared by its lanes, so a write that ran out of memory next to
   * another fits when it runs alone. Default: no retry.
   */
  retryAlone?: (err: unknown) => boolean;
}

export class KeyedLanes<R> {
  private readonly free: R[];
  /** Tasks waiting for a resource, heaviest first (submission order among equals). */
  private readonly waiters: { weight: number; resolve: (resource: R) => void }[] = [];
  /** Per key, the settling of the last task submitted with it. */
  private readonly tails = new Map<string, Promise<void>>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly size: number;
  /** The settling of the last task that gathers every resource (see `alone`). */
  private aloneTail: Promise<void> = Promise.resolve();

  constructor(resources: readonly R[]) {
    if (resources.length === 0) throw new Error('KeyedLanes needs at least one resource to run tasks on');
    this.free = [...resources];
    this.size = resources.length;
  }

  /**
   * Runs `fn` on a free resource once every earlier task with the same `key` has settled
   * (undefined: no ordering constraint). Several keys (a batch of partitions): the task waits for
   * the earlier tasks of each, and later tasks of any of them wait for it. A task waiting for its
   * key holds no resource.
   */
  run<T, U = T>(key: string | readonly string[] | undefined, fn: (resource: R) => Promise<T>, opts: RunOptions<T, U> = {}): Promise<U> {
    const { then, weight = 0, retryAlone } = opts;
    const keys = key === undefined ? [] : typeof key === 'string' ? [key] : [...new Set(key)];
    const before = keys.map((k) => this.tails.get(k)).filter((p): p is Promise<void> => p !== undefined);
    const task = (async () => {
      if (before.length > 0) await Promise.all(before);
      const resource = await this.acquire(weight);
      let value: T;
      try {
        value = await fn(resource);
      } catch (err) {
        this.release(resource);
        if (!retryAlone?.(err)) throw err;
        value = await this.alone(fn);
        return then ? await then(value) : (value as unknown as U);
      }
      this.release(resource);
      return then ? await then(value) : (value as unknown as U);
    })();
    const settled = task.then(
      () => undefined,
      () => undefined,
    );
    for (const k of keys) {
      this.tails.set(k, settled);
      void settled.then(() => {
        if (this.tails.get(k) === settled) this.tails.delete(k);
      });
    }
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
    return task;
  }

  /** Resolves when every task submitted so far (and any they submit) has settled. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /**
   * Runs `fn` on the first resource while holding all of them. One such task gathers at a time
   * (two gathering at once could each hold some and wait for the other forever); it goes ahead of
   * every waiting task, and the tasks running meanwhile finish first.
   */
  private alone<T>(fn: (resource: R) => Promise<T>): Promise<T> {
    const turn = this.aloneTail.then(async () => {
      const held: R[] = [];
      for (let i = 0; i < this.size; i++) held.push(await this.acquire(Number.POSITIVE_INFINITY));
      try {
        return await fn(held[0]!);
      } finally {
        for (const r of held) this.release(r);
      }
    });
    this.aloneTail = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }

  private acquire(weight: number): Promise<R> {
    const resource = this.free.pop();
    if (resource !== undefined) return Promise.resolve(resource);
    return new Promise((resolve) => {
      let i = this.waiters.length;
      while (i > 0 && this.waiters[i - 1]!.weight < weight) i--;
      this.waiters.splice(i, 0, { weight, resolve });
    });
  }

  private release(resource: R): void {
    const next = this.waiters.shift();
    if (next) next.resolve(resource);
    else this.free.push(resource);
  }
}
