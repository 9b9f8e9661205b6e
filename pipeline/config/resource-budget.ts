/**
 * The memory budget (`resources.memoryMiB`) turned into the knobs that decide a process's peak:
 * DuckDB's memory_limit (the only large allocator besides V8), the lake writer's lanes, the
 * HTTP requests in flight (each holds a page body and its parse until the spool has it) and how
 * much page garbage V8 may hold before a full collection.
 *
 * What is not in any knob is the base every cdrpipe process pays before it does anything: Node
 * (~40 MiB), the tsx loader with esbuild (~35 MiB), DuckDB's library and first instance (~45 MiB)
 * and the pipeline's modules (~35 MiB): about 150 MiB. The shares below are of what is left.
 */
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import type { CdrpipeConfig } from './config-schema.ts';

/** What a cdrpipe process costs before it does any work (measured: `memory` bench scenario, "base" row). */
export const BASE_PROCESS_MIB = 150;

export interface ResourceBudget {
  memoryMiB: number;
  /** DuckDB memory_limit of a query process (transform, report, reconcile, sql), in MiB. */
  queryDuckdbMiB: number;
  /** The lake writer's DuckDB memory_limit during an ingest, in MiB (shared by its lanes). */
  writerDuckdbMiB: number;
  /** Partition writes side by side (each a connection of the writer, one core each). */
  writerLanes: number;
  /** The most API requests in flight an ingest may run, whatever `ingest.concurrency` says. */
  maxRequestsInFlight: number;
  /**
   * Page bytes (bodies and their spool encodings) an ingest reads between two full V8
   * collections, in MiB: the garbage they leave (large strings V8 frees only in a full
   * collection) stays about this size, whatever the size of the run.
   */
  ingestGarbageMiB: number;
  /**
   * The same bound for a report run: the billed-call rows it streams from the warehouse (each
   * batch garbage once its CSV text is built), in MiB between two full V8 collections.
   */
  reportGarbageMiB: number;
}

/** A request in flight: a page body of up to ~1.6 MiB, its parse and the spool encoding. */
const MIB_PER_REQUEST = 12;

/** The knobs for a budget of `memoryMiB` (pure: the same budget always gives the same knobs). */
export function resourceBudget(memoryMiB: number): ResourceBudget {
  const free = Math.max(64, memoryMiB - BASE_PROCESS_MIB);
  return {
    memoryMiB,
    // A query process holds little besides DuckDB: most of what is left, the rest for V8's heap.
    queryDuckdbMiB: Math.max(48, Math.floor(free * 0.6)),
    // An ingest also holds page bodies in V8: DuckDB gets about a third, requests another third.
    writerDuckdbMiB: Math.max(48, Math.floor(free * 0.35)),
    writerLanes: free >= 256 ? 2 : 1,
    maxRequestsInFlight: Math.max(1, Math.floor((free * 0.35) / MIB_PER_REQUEST)),
    // A full collection of the ingest's small live heap costs milliseconds: every ~6 pages at the default.
    ingestGarbageMiB: Math.max(8, Math.floor(free * 0.05)),
    // A report run's live heap is larger (a chunk's attachments, templates): collect less often.
    reportGarbageMiB: Math.max(16, Math.floor(free * 0.1)),
  };
}

/**
 * Working memory one DuckDB thread needs on the lake: a lake row group with its raw JSON, and the
 * window and hash state of a model over it. Measured: a month of 200k CDRs (40 domains) ran out of
 * a 217 MiB limit with 2 threads (no operator could spill the rest) and ran in it with 1.
 */
const MIB_PER_QUERY_THREAD = 160;

/** DuckDB threads of a query process: as many as its memory share feeds, at least 1, at most the cores. */
export function queryThreads(queryDuckdbMiB: number, cores = availableParallelism()): number {
  return Math.max(1, Math.min(cores, Math.floor(queryDuckdbMiB / MIB_PER_QUERY_THREAD)));
}

/** Where DuckDB spills beyond its memory_limit: on the data directory's filesystem, never /tmp. */
export const duckdbSpillDir = (dataDir: string) => join(dataDir, 'tmp', 'duckdb');

/**
 * DuckDB settings for a query process's database (warehouse, lake reads): the budget's memory
 * limit and a spill directory under the data directory.
 */
export function duckdbSettings(config: Pick<CdrpipeConfig, 'resources'>, dataDir: string): Record<string, string> {
  const b = resourceBudget(config.resources.memoryMiB);
  const spill = duckdbSpillDir(dataDir);
  // DuckDB creates the spill folder itself but not its parent: a data directory that never ran an
  // ingest (a lake copied in, a bucket's local copy) has no tmp/ and its first spill would fail the query.
  try {
    mkdirSync(dirname(spill), { recursive: true });
  } catch {
    // A read-only data directory: queries that fit in memory still run; DuckDB names the folder if one must spill.
  }
  return { memory_limit: `${b.queryDuckdbMiB}MiB`, temp_directory: spill, threads: String(queryThreads(b.queryDuckdbMiB)) };
}
