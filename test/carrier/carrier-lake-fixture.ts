/** Writes carrier records into lake/carrier_cdrs in the layout carrier import writes (one file per source file and month). */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Db, sqlString } from '../../pipeline/db/duckdb.ts';
import { resolveProjectPath } from '../../pipeline/config/load-config.ts';
import { carrierPartitionDir } from '../../pipeline/lake/layout.ts';
import { insertRows } from '../../pipeline/transform/insert-rows.ts';

export interface FixtureCarrierRecord {
  call_id?: string | null;
  /** ISO instant with zone. */
  start: string;
  from?: string;
  to: string;
  billed_seconds: number;
  cost: string;
  currency?: string;
}

/** One imported file: every record gets the file's hash and name and its line (header = line 1). */
export async function writeCarrierLake(
  dataDir: string,
  carrier: string,
  records: readonly FixtureCarrierRecord[],
  file = { name: 'carrier.csv', sha256: 'f'.repeat(64) },
): Promise<void> {
  const db = await Db.open(':memory:');
  try {
    await db.run(`CREATE TABLE f (call_id VARCHAR, start_time TIMESTAMPTZ, from_number VARCHAR, to_number VARCHAR, to_e164 VARCHAR,
      billed_seconds INTEGER, cost DECIMAL(18,6), currency VARCHAR, raw VARCHAR, file_sha256 VARCHAR, file_name VARCHAR,
      line_number BIGINT, imported_at TIMESTAMPTZ)`);
    await insertRows(
      db,
      'f',
      [
        'call_id',
        'start_time',
        'from_number',
        'to_number',
        'billed_seconds',
        'cost',
        'currency',
        'raw',
        'file_sha256',
        'file_name',
        'line_number',
        'imported_at',
      ],
      records.map((r, i) => [
        r.call_id === undefined ? `c${i + 1}` : r.call_id,
        r.start,
        r.from ?? '+12125550100',
        r.to,
        r.billed_seconds,
        r.cost,
        r.currency ?? 'USD',
        `${r.call_id ?? ''},${r.start},${r.to},${r.billed_seconds},${r.cost}`,
        file.sha256,
        file.name,
        i + 2,
        '2026-11-02T00:00:00Z',
      ]),
    );
    // E.164 as import stores it: the same rules as the SQL macro to_e164 (reports/macros/numbers.sql).
    await db.exec(await readFile(resolveProjectPath('reports/macros/numbers.sql'), 'utf8'));
    await db.run(`UPDATE f SET to_e164 = to_e164(to_number)`);
    const months = await db.all<{ m: string }>(`SELECT DISTINCT strftime(start_time, '%Y-%m') AS m FROM f`);
    for (const { m } of months) {
      const dir = carrierPartitionDir(dataDir, carrier, m);
      await mkdir(dir, { recursive: true });
      await db.run(
        `COPY (SELECT * FROM f WHERE strftime(start_time, '%Y-%m') = $1) TO ${sqlString(join(dir, `${file.sha256.slice(0, 16)}.parquet`))} (FORMAT parquet)`,
        [m],
      );
    }
  } finally {
    db.close();
  }
}
