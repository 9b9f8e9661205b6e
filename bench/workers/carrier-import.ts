/**
 * One carrier-file import (or DuckDB's own CSV -> Parquet copy of the same file) in its own
 * process: timings exclude module loading, and the peak RSS is that one import's.
 */
import { importCarrierFile } from '../../pipeline/carrier/index.ts';
import { loadConfig } from '../../pipeline/config/load-config.ts';
import { Db, sqlString } from '../../pipeline/db/duckdb.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { peakRssBytes, serveWorker } from '../lib/worker.ts';

export interface CarrierImportParams {
  file: string;
  dataDir: string;
  now: Date;
}

export interface TimedResult {
  wallMs: number;
  rows: number;
  rejected: number;
  peakRssBytes: number;
}

serveWorker({
  importFile: async (p: CarrierImportParams): Promise<TimedResult> => {
    const config = await loadConfig();
    const t0 = performance.now();
    const r = await importCarrierFile({
      dataDir: p.dataDir,
      config,
      clock: new FixedClock(p.now),
      logger: silentLogger(),
      file: p.file,
      carrier: 'generic',
    });
    return { wallMs: performance.now() - t0, rows: r.loaded, rejected: r.rejected, peakRssBytes: await peakRssBytes() };
  },
  /** DuckDB alone: read_csv (its own sniffing and typing) straight into one Parquet file, same compression as the lake. */
  duckdbCopy: async (p: { file: string; out: string }): Promise<TimedResult> => {
    const t0 = performance.now();
    const db = await Db.open(':memory:');
    try {
      await db.run(
        `COPY (SELECT * FROM read_csv(${sqlString(p.file)})) TO ${sqlString(p.out)} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)`,
      );
      const n = await db.one<{ n: string }>(`SELECT count(*) AS n FROM read_parquet(${sqlString(p.out)})`);
      return { wallMs: performance.now() - t0, rows: Number(n?.n ?? 0), rejected: 0, peakRssBytes: await peakRssBytes() };
    } finally {
      db.close();
    }
  },
});
