/**
 * The schedule stage's public surface: other stages import from here, never from its files.
 */
export { formatDemoSummary, runDemo } from './demo.ts';
export { DEMO_LAKE_URL, demoBucketServerDir, runDemoInBucket } from './demo-bucket.ts';
export type { JobProgress } from './job-types.ts';
export { createRealStages } from './real-stages.ts';
export { runJob } from './run-job.ts';
export { markAbandonedRuns, recordRunEnd, recordRunStart } from './run-log.ts';
export { loadRuntime } from './runtime.ts';
export { startScheduler } from './scheduler.ts';
export { formatStatus, gatherStatus } from './status-report.ts';
export { createTaskRegistry } from './tasks.ts';
