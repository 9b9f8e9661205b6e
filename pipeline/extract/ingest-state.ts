import type { TimeWindow } from '../source/index.ts';
import type { Month } from '../util/month.ts';

/**
 * The in-memory state of one ingest run: what each domain and partition has completed and what
 * has been handed to the lake writer. Types only; the stages that change it live beside it.
 */

export interface DomainState {
  domain: string;
  watermark: Date | undefined;
  /** Where an incremental run for a domain without a watermark started. */
  seed: Date | undefined;
  flushed: TimeWindow[];
}

/** A window whose pages are spooled and wait to be merged into their partition. */
export interface DoneWindow {
  window: TimeWindow;
  /** The answer matched the count: the watermark may pass this window. */
  clean: boolean;
  /** Stored rows of this window that were not fetched may be removed (`prune`, confirmed count). */
  prunable: boolean;
  files: string[];
  rows: number;
  idHashes: Float64Array;
  duplicateIds: string[];
}

export interface PartitionState {
  dom: DomainState;
  month: Month;
  end: Date;
  /** Everything before this has been handed to the writer. */
  flushedTo: Date;
  done: Map<number, DoneWindow>;
  spooledRows: number;
}

export interface WindowTask {
  part: PartitionState;
  window: TimeWindow;
  /** Known when the window is a half of a split (its parent counted it). */
  count?: number;
}
