import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Db, sqlString } from '../../pipeline/db/duckdb.ts';
import { cdrsDir, domainsDir, partitionDir } from '../../pipeline/lake/layout.ts';

/**
 * A lake with history, written straight to Parquet by DuckDB in the lake's layout
 * (lake/cdrs/month=YYYY-MM/domain=<d>/data0.parquet, lake/domains/domains.parquet): `months` UTC
 * months x `domains` domains, `perDomainMonth` CDRs each, with the columns the models read.
 * Synthetic but shaped like the PBX's: directions, answered and missed calls, domestic,
 * international, toll-free and premium numbers, caller names and disconnect reasons in `raw`.
 * Cached under `cacheDir` by size; a copy goes to `dataDir`.
 */
export interface HistoryLakeSpec {
  months: readonly string[];
  domains: number;
  perDomainMonth: number;
}

const ZONES = ['America/New_York', 'America/Chicago', 'America/Denver', 'America/Los_Angeles', 'UTC', 'Europe/London'];

export const domainName = (i: number) => `d${String(i).padStart(3, '0')}.bench.example`;

/** SELECT of `n` CDRs of one domain-month; `salt` makes ids of a later tick new. */
export function cdrRowsSql(opts: {
  domainExpr: string;
  month: string;
  n: number;
  seedExpr: string;
  salt: string;
  ingestedAt: string;
}): string {
  return `SELECT
      ${opts.domainExpr} || '-' || '${opts.month}' || '-${opts.salt}' || i AS id,
      ${opts.domainExpr} AS domain,
      TIMESTAMPTZ '${opts.month}-01 00:00:00+00' + to_microseconds(CAST(((i * 7919 + ${opts.seedExpr} * 104729) % (28 * 86400)) AS BIGINT) * 1000000) AS start_time,
      CAST(CASE WHEN i % 5 = 0 THEN 0 ELSE 5 + (i * 37) % 900 END AS INTEGER) AS talk_s,
      CASE WHEN i % 5 = 0 THEN NULL ELSE start_time + INTERVAL 8 SECOND END AS answer_time,
      start_time + to_microseconds(CAST((8 + talk_s) AS BIGINT) * 1000000) AS end_time,
      CAST(8 + talk_s AS INTEGER) AS duration_s,
      CASE WHEN i % 3 = 0 THEN 'inbound' WHEN i % 11 = 0 THEN 'internal' WHEN i % 5 = 0 AND i % 3 = 1 THEN 'missed' ELSE 'outbound' END AS direction,
      '1' || (i % 40) AS orig_user,
      CASE WHEN direction = 'internal' THEN '2' || (i % 40) WHEN direction IN ('inbound', 'missed') THEN '1' || (i % 40) END AS term_user,
      CASE WHEN direction IN ('inbound', 'missed') THEN '+1212555' || lpad(CAST(i % 10000 AS VARCHAR), 4, '0') ELSE '+13125550100' END AS caller_number,
      CASE WHEN direction IN ('inbound', 'missed') THEN '+13125550100'
           WHEN i % 13 = 0 THEN '+4420' || lpad(CAST(i % 100000000 AS VARCHAR), 8, '0')
           WHEN i % 17 = 0 THEN '+1800555' || lpad(CAST(i % 10000 AS VARCHAR), 4, '0')
           WHEN i % 97 = 0 THEN '+1900555' || lpad(CAST(i % 10000 AS VARCHAR), 4, '0')
           ELSE '+1' || CAST(201 + i % 700 AS VARCHAR) || '555' || lpad(CAST(i % 10000 AS VARCHAR), 4, '0') END AS dialed_number,
      json_object('call-orig-from-name', 'User ' || (i % 40), 'call-disconnect-reason-text', CASE WHEN i % 53 = 0 THEN 'Term: Reg Expired' ELSE 'Orig: Bye' END) AS raw,
      TIMESTAMPTZ '${opts.ingestedAt}' AS ingested_at
    FROM range(${opts.n}) AS r(i)`;
}

async function build(dir: string, spec: HistoryLakeSpec): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(cdrsDir(dir), { recursive: true });
  const db = await Db.open(':memory:', { settings: { preserve_insertion_order: 'false' } });
  try {
    await db.run(
      `CREATE TABLE d AS SELECT 'd' || lpad(CAST(range AS VARCHAR), 3, '0') || '.bench.example' AS domain, range AS k FROM range(${spec.domains})`,
    );
    for (const month of spec.months) {
      const rows = cdrRowsSql({
        domainExpr: 'd.domain',
        month,
        n: spec.perDomainMonth,
        seedExpr: 'd.k',
        salt: '',
        ingestedAt: `${month}-28 00:00:00+00`,
      });
      await db.run(
        `COPY (SELECT * EXCLUDE (domain), domain, '${month}' AS month FROM (${rows.replace('FROM range', 'FROM d, range')}))
           TO ${sqlString(cdrsDir(dir))} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (month, domain), WRITE_PARTITION_COLUMNS false, FILENAME_PATTERN 'data', OVERWRITE_OR_IGNORE)`,
      );
    }
    await mkdir(domainsDir(dir), { recursive: true });
    await db.run(
      `COPY (SELECT domain, 'bench-reseller' AS reseller, 'Bench ' || domain AS description,
              [${ZONES.map(sqlString).join(', ')}][1 + k % ${ZONES.length}] AS time_zone, '{}'::JSON AS raw, TIMESTAMPTZ '2026-11-01 00:00:00+00' AS fetched_at
            FROM d ORDER BY domain)
         TO ${sqlString(join(domainsDir(dir), 'domains.parquet'))} (FORMAT parquet)`,
    );
  } finally {
    db.close();
  }
}

/** Copies the cached lake of this size to `dataDir`, building it first when the cache lacks it. */
export async function historyLake(cacheDir: string, dataDir: string, spec: HistoryLakeSpec, log: (l: string) => void): Promise<void> {
  const key = `history-lake-v1-${spec.months[0]}-${spec.months.length}m-${spec.domains}d-${spec.perDomainMonth}`;
  const cached = join(cacheDir, key);
  if (!existsSync(join(cached, '.complete'))) {
    log(`building ${key} (cached for later runs)`);
    await build(`${cached}.tmp`, spec);
    await writeFile(join(`${cached}.tmp`, '.complete'), '');
    await rm(cached, { recursive: true, force: true });
    await rename(`${cached}.tmp`, cached);
  }
  await rm(dataDir, { recursive: true, force: true });
  await cp(join(cached, 'lake'), join(dataDir, 'lake'), { recursive: true });
}

/**
 * A tick: `extra` new CDRs for each domain in one month, merged into its partition file the way the
 * lake writer does it (written aside, renamed over the partition's file).
 */
export async function tickDomains(dataDir: string, month: string, domains: readonly string[], extra: number, salt: string): Promise<void> {
  const db = await Db.open(':memory:');
  try {
    for (const domain of domains) {
      const dir = partitionDir(dataDir, month, domain);
      const name = (await readdir(dir)).find((f) => f.endsWith('.parquet'));
      if (!name) throw new Error(`no Parquet file in ${dir}: build the lake first`);
      const file = join(dir, name);
      const aside = `${file}.${salt}.tmp`;
      const rows = cdrRowsSql({
        domainExpr: sqlString(domain),
        month,
        n: extra,
        seedExpr: String(salt.length * 31 + 7),
        salt,
        ingestedAt: `${month}-20 00:00:00+00`,
      });
      await db.run(
        `COPY (SELECT * FROM read_parquet(${sqlString(file)}) UNION ALL BY NAME SELECT * EXCLUDE (domain) FROM (${rows}))
           TO ${sqlString(aside)} (FORMAT parquet, COMPRESSION zstd)`,
      );
      await rename(aside, file);
    }
  } finally {
    db.close();
  }
}
