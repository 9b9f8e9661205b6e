import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { compactLake, type CompactMonthResult } from '../lake/index.ts';
import { lakeStoreFor } from '../store/index.ts';
import { UsageError } from '../util/errors.ts';
import { acquireIngestLock, workRoot } from './work-dir.ts';

/** Default age (days after its end) at which a month counts as closed: past the late sweep's reach. */
export const DEFAULT_COMPACT_MIN_AGE_DAYS = 7;

/**
 * Compacts closed months of the lake under the ingest lock (the lake has one writer at a time, and
 * compaction rewrites partitions an ingest would otherwise merge into). `cdrpipe lake compact` and
 * the scheduler's lake-compact task both run this.
 */
export async function runCompact(opts: {
  dataDir: string;
  months?: readonly string[];
  minAgeDays: number;
  now: Date;
  signal?: AbortSignal;
}): Promise<CompactMonthResult[]> {
  if (lakeStoreFor(opts.dataDir)) {
    throw new UsageError(
      'lake compact works on a lake on local disk; with CDRPIPE_LAKE_URL set the compacted shape is not written yet (unset it to compact a local lake)',
    );
  }
  const release = await acquireIngestLock(opts.dataDir);
  const workDir = join(workRoot(opts.dataDir), `compact-${process.pid}`);
  try {
    await mkdir(workDir, { recursive: true });
    return await compactLake({ ...opts, workDir });
  } finally {
    await rm(workDir, { recursive: true, force: true });
    await release();
  }
}

/** One line per month compacted (or already in shape). */
export function formatCompact(results: readonly CompactMonthResult[]): string {
  if (results.length === 0) return 'lake compact: every closed month is already compacted; nothing to do\n';
  return (
    results
      .map((r) =>
        r.changed
          ? `month=${r.month}: generation ${r.generation}, ${r.rows} rows of ${r.domains} domains in ${r.files} file(s); folded ${r.partitionsFolded} per-domain partition(s), removed ${r.generationsRemoved} older generation(s)`
          : `month=${r.month}: already compacted`,
      )
      .join('\n') + '\n'
  );
}
