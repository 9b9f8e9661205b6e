import { cdrsDir, cdrsGlob } from '../../pipeline/lake/layout.ts';
import { withDb, sqlString } from '../../pipeline/db/duckdb.ts';
import { listFiles, totalBytes } from './files.ts';

/** What the lake holds after a run: rows, distinct (domain, id) keys, rows per domain, bytes. */
export interface LakeCensus {
  rows: number;
  distinctKeys: number;
  byDomain: Map<string, number>;
  parquetBytes: number;
  files: number;
}

/** Counts the lake's CDRs with DuckDB, independently of the pipeline's own bookkeeping. */
export async function lakeCensus(dataDir: string): Promise<LakeCensus> {
  const files = await listFiles(cdrsDir(dataDir), '.parquet');
  if (files.length === 0) return { rows: 0, distinctKeys: 0, byDomain: new Map(), parquetBytes: 0, files: 0 };
  const glob = sqlString(cdrsGlob(dataDir));
  return withDb(':memory:', async (db) => {
    const per = await db.all<{ domain: string; n: string; k: string }>(
      `SELECT domain, count(*)::BIGINT AS n, count(DISTINCT id)::BIGINT AS k
         FROM read_parquet(${glob}, hive_partitioning = true) GROUP BY domain`,
    );
    const byDomain = new Map(per.map((r) => [r.domain, Number(r.n)]));
    return {
      rows: per.reduce((s, r) => s + Number(r.n), 0),
      distinctKeys: per.reduce((s, r) => s + Number(r.k), 0),
      byDomain,
      parquetBytes: await totalBytes(cdrsDir(dataDir), '.parquet'),
      files: files.length,
    };
  });
}
