/**
 * The extract stage's public surface: other stages import from here, never from its files.
 */
export { DEFAULT_ABORT_GRACE_MS } from './abort-grace.ts';
export { IngestIncompleteError, formatIngestSummary } from './ingest-summary.ts';
export type { IngestProgress, IngestSummary } from './ingest-summary.ts';
export { runIngest } from './run-ingest.ts';
export { DEFAULT_COMPACT_MIN_AGE_DAYS, formatCompact, runCompact } from './run-compact.ts';
