import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Db } from '../db/duckdb.ts';
import { addMonths, isMonth, utcMonthOf } from '../util/month.ts';
import { UsageError } from '../util/errors.ts';
import { monthPartitions } from './compacted-partition.ts';
import { compactMonth, type CompactMonthResult, type CompactShape } from './compact-month.ts';
import { cdrsDir } from './layout.ts';

export interface CompactLakeOptions {
  dataDir: string;
  /** Scratch space on the lake's file system (the new generation is written there, then renamed in). */
  workDir: string;
  now: Date;
  /** Months to compact; default: every closed month that is not in its compacted shape. */
  months?: readonly string[];
  /** A month is closed once it ended at least this many days ago (late CDRs have stopped arriving). */
  minAgeDays: number;
  shape?: CompactShape;
  /** DuckDB memory cap; it spills to workDir beyond it. */
  memoryLimit?: string;
  signal?: AbortSignal;
}

/** The months of lake/cdrs, oldest first. */
function lakeMonths(dataDir: string): string[] {
  const root = cdrsDir(dataDir);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((e) => e.startsWith('month='))
    .map((e) => e.slice('month='.length))
    .filter(isMonth)
    .sort();
}

/** True when every day of `month` lies at least `minAgeDays` before `now`. */
export function isClosedMonth(month: string, now: Date, minAgeDays: number): boolean {
  const end = new Date(`${addMonths(month, 1)}-01T00:00:00Z`);
  return now.getTime() - end.getTime() >= minAgeDays * 86_400_000;
}

/**
 * Compacts closed months (lake/compact-month.ts). A month named in `months` that is not closed is
 * refused (exit 2): its per-domain partitions are still being written. The caller holds the ingest lock.
 */
export async function compactLake(opts: CompactLakeOptions): Promise<CompactMonthResult[]> {
  for (const m of opts.months ?? []) {
    if (!isMonth(m)) throw new UsageError(`--month ${JSON.stringify(m)}: expected YYYY-MM, e.g. 2026-10`);
    if (!isClosedMonth(m, opts.now, opts.minAgeDays)) {
      throw new UsageError(
        `--month ${m}: not closed yet (it must have ended ${opts.minAgeDays} days ago; the current month is ${utcMonthOf(opts.now)}); compact it later or lower --min-age-days`,
      );
    }
  }
  const months = (opts.months ?? lakeMonths(opts.dataDir).filter((m) => isClosedMonth(m, opts.now, opts.minAgeDays))).filter((m) => {
    const p = monthPartitions(opts.dataDir, m);
    return p.domains.length > 0 || p.generations.length > 1;
  });
  const results: CompactMonthResult[] = [];
  if (months.length === 0) return results;
  const db = await Db.open(':memory:', {
    settings: {
      memory_limit: opts.memoryLimit ?? '512MB',
      temp_directory: join(opts.workDir, 'duckdb-spill'),
      preserve_insertion_order: 'true',
    },
  });
  try {
    for (const month of months) {
      opts.signal?.throwIfAborted();
      results.push(await compactMonth(db, { dataDir: opts.dataDir, month, workDir: opts.workDir, shape: opts.shape }));
    }
  } finally {
    db.close();
  }
  return results;
}
