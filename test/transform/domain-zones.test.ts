import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { sqlString, withDb } from '../../pipeline/db/duckdb.ts';
import { domainsDir } from '../../pipeline/lake/index.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { loadDomains } from '../../pipeline/transform/warehouse-inputs.ts';
import { tempDir } from '../support/temp-dir.ts';
import { testConfig } from '../support/test-config.ts';

it('takes each domain time zone from the config, else the PBX when DuckDB knows it, else UTC', async () => {
  const dataDir = await tempDir();
  await mkdir(domainsDir(dataDir), { recursive: true });
  const config = testConfig({
    customers: { defaults: { plan: 'standard', recipients: ['usage@{domain}'] }, domains: { 'c.example': { timeZone: 'Asia/Tokyo' } } },
  });
  await withDb(':memory:', async (db) => {
    await db.run(
      `COPY (SELECT * FROM (VALUES ('a.example', 'Europe/Paris'), ('b.example', 'EST5EDT'), ('c.example', 'Europe/Paris'), ('d.example', 'Not/AZone'))
             AS t(domain, time_zone)) TO ${sqlString(join(domainsDir(dataDir), 'domains.parquet'))} (FORMAT parquet)`,
    );
    await loadDomains(db, dataDir, config, silentLogger(), {
      onlyCdrDomains: true,
      cdrDomains: ['a.example', 'b.example', 'c.example', 'd.example'],
    });
    expect(await db.all(`SELECT domain, time_zone, time_zone_source FROM domains ORDER BY domain`)).toEqual([
      { domain: 'a.example', time_zone: 'Europe/Paris', time_zone_source: 'pbx' },
      { domain: 'b.example', time_zone: 'EST5EDT', time_zone_source: 'pbx' },
      { domain: 'c.example', time_zone: 'Asia/Tokyo', time_zone_source: 'config' },
      { domain: 'd.example', time_zone: 'UTC', time_zone_source: 'default' },
    ]);
  });
});
