/** A data directory, a pinned clock and a config with carriers, for carrier import tests. */
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { importCarrierFile, type CarrierImportResult } from '../../pipeline/carrier/index.ts';
import type { CdrpipeConfigInput } from '../../pipeline/config/config-schema.ts';
import { Db, type JsonRow } from '../../pipeline/db/duckdb.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { tempDir } from '../support/temp-dir.ts';
import { testConfig } from '../support/test-config.ts';

export interface ImportHarness {
  dataDir: string;
  dir: string;
  clock: FixedClock;
  run(file: string, carrier: string, extra?: { month?: string; replaces?: string }): Promise<CarrierImportResult>;
  /** Rows of lake/carrier_cdrs (or carrier_rejects), hive columns included. */
  rows(area?: 'carrier_cdrs' | 'carrier_rejects', where?: string): Promise<JsonRow[]>;
  /** Files under lake/, relative, sorted. */
  files(): Promise<string[]>;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

export async function importHarness(carriers: CdrpipeConfigInput['carriers'] = {}): Promise<ImportHarness> {
  const dir = await tempDir('cdrpipe-carrier-');
  const dataDir = join(dir, 'data');
  const clock = new FixedClock(new Date('2026-11-05T10:00:00Z'));
  const config = testConfig({ carriers });
  return {
    dataDir,
    dir,
    clock,
    run: (file, carrier, extra = {}) => importCarrierFile({ dataDir, config, clock, logger: silentLogger(), file, carrier, ...extra }),
    rows: async (area = 'carrier_cdrs', where = 'true') => {
      const glob = join(dataDir, 'lake', area, '**', '*.parquet');
      if ((await walk(join(dataDir, 'lake', area))).length === 0) return [];
      const db = await Db.open(':memory:');
      try {
        return await db.all(
          `SELECT * FROM read_parquet('${glob}', hive_partitioning = true) WHERE ${where} ORDER BY file_name, line_number, month`,
        );
      } finally {
        db.close();
      }
    },
    files: async () => (await walk(join(dataDir, 'lake'))).map((f) => relative(join(dataDir, 'lake'), f)).sort(),
  };
}
