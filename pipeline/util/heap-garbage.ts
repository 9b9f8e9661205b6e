/**
 * Bounds the garbage V8 lets pile up between full collections. An ingest reads page bodies of
 * ~1.6 MB: each is a Buffer (its bytes outside the heap, its handle and parse inside), and nothing
 * of it lives past the spool write, yet V8 releases them only when a collection finds them dead,
 * and it postpones full collections as the old generation grows during a run (measured when bodies
 * were strings: a 25k-CDR backfill ended with ~100 MiB of heap, 100k CDRs ~190 MiB, 400k ~240 MiB).
 * Still needed with bodies read as bytes: a 100k-CDR backfill without these collections peaked at
 * 494 MiB RSS (heap 88 MiB, Buffers 69 MiB) against 424 MiB with them (heap 42, Buffers 22).
 * Counting the bytes read and collecting after a fixed amount keeps that garbage flat whatever the
 * run's size; one full collection of the small live heap costs a few milliseconds per that many pages.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Collect = () => void;

let collector: Collect | null | undefined;

/** V8's full collection: `gc` when the process exposes it, else exposed once on a fresh context; null when it cannot be had. */
function fullCollection(): Collect | null {
  if (collector !== undefined) return collector;
  const own = (globalThis as { gc?: unknown }).gc;
  if (typeof own === 'function') return (collector = own as Collect);
  try {
    // The flag only takes effect for contexts created after it: a new context gets `gc`.
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    collector = typeof gc === 'function' ? (gc as Collect) : null;
  } catch {
    collector = null;
  }
  return collector;
}

/** Counts bytes that become garbage soon (page bodies) and runs a full collection after every `everyBytes` of them. */
export class HeapGarbage {
  private since = 0;
  /** Full collections run so far, and the CPU milliseconds they took. */
  collections = 0;
  collectCpuMs = 0;

  constructor(readonly everyBytes: number) {
    if (!(everyBytes > 0)) throw new Error(`heap garbage bound must be a positive number of bytes, got ${everyBytes}`);
  }

  /** Notes `bytes` more of garbage-to-be; collects once the bound is reached (a no-op where V8 offers no collection). */
  add(bytes: number): void {
    this.since += bytes;
    if (this.since < this.everyBytes) return;
    this.collect();
  }

  /**
   * Runs a full collection now, whatever has been counted: at the end of the fetching, the last
   * pages' garbage would otherwise stay through the writes that follow (the writes are the peak).
   */
  collect(): void {
    this.since = 0;
    const gc = fullCollection();
    if (!gc) return;
    const cpu = process.cpuUsage();
    gc();
    const spent = process.cpuUsage(cpu);
    this.collectCpuMs += (spent.user + spent.system) / 1000;
    this.collections++;
  }
}
