import type { Clock } from '../util/clock.ts';
import type { Logger } from '../util/logger.ts';
import type { CdrpipeConfig } from './config-schema.ts';

/**
 * What every stage is handed, once, instead of each redeclaring it: the data directory, the
 * validated config, the clock (injected so tests are exact), the logger and the abort signal.
 * Stage options extend this (or the part of it they use) with what is theirs alone.
 */
export interface StageContext {
  /** The data directory (`CDRPIPE_DATA_DIR`): lake, state, reports, outbox. */
  dataDir: string;
  /** The validated `jobs.config.ts`. */
  config: CdrpipeConfig;
  /** The one source of "now" for the stage. */
  clock: Clock;
  logger: Logger;
  /** Stops the stage between units of work (a window, a report, a model); nothing half-written is published. */
  signal?: AbortSignal;
}
