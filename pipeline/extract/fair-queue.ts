/**
 * Per-key FIFO queues served round-robin: the next item comes from the key after the one served
 * last, so one domain with thousands of windows cannot starve a domain with one.
 */
export class FairQueue<T> {
  private readonly queues = new Map<string, T[]>();
  private order: string[] = [];
  private cursor = 0;

  push(key: string, item: T): void {
    this.queueOf(key).push(item);
  }

  /** Puts items at the front of a key's queue (e.g. the halves of a split window, in order). */
  unshift(key: string, ...items: T[]): void {
    this.queueOf(key).unshift(...items);
  }

  /** The next item, round-robin across keys with work; undefined when all queues are empty. */
  next(): T | undefined {
    for (let tried = 0; tried < this.order.length; tried++) {
      const key = this.order[this.cursor % this.order.length]!;
      this.cursor = (this.cursor + 1) % Math.max(1, this.order.length);
      const q = this.queues.get(key)!;
      const item = q.shift();
      if (item !== undefined) return item;
    }
    return undefined;
  }

  get size(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /** Drops every queued item (an aborted run takes no new work). */
  clear(): void {
    for (const q of this.queues.values()) q.length = 0;
  }

  private queueOf(key: string): T[] {
    let q = this.queues.get(key);
    if (!q) {
      q = [];
      this.queues.set(key, q);
      this.order.push(key);
    }
    return q;
  }
}
