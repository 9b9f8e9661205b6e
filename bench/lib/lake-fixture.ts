import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Db, sqlString } from '../../pipeline/db/duckdb.ts';
import { cdrsDir } from '../../pipeline/lake/layout.ts';
import { LakeWriter } from '../../pipeline/lake/lake-writer.ts';
import { fillSql, lakeSql } from '../../pipeline/lake/sql-files.ts';
import { cdrRowsSql } from '../../pipeline/lake/row-sql.ts';
import { domainObject, generateDomains } from '../../pipeline/simulator/domain-gen.ts';
import type { DomainInfo } from '../../pipeline/source/types.ts';
import type { PageCorpus } from './page-corpus.ts';

/**
 * A lake to run later stages on, built fast: the lake writer's own row SQL (lake/row-sql.ts, general form,
 * with its macros) over every page body at once, written by one DuckDB COPY partitioned by
 * month and domain, so the columns and layout are the pipeline's. Only how the files get there
 * differs (the pipeline merges partition by partition; scenario 1 times that). Also writes
 * lake/domains/domains.parquet with the pipeline's writer, for time zones.
 */
export async function buildLakeFixture(corpus: PageCorpus, dataDir: string, seed: number): Promise<void> {
  await rm(dataDir, { recursive: true, force: true });
  const out = cdrsDir(dataDir);
  await mkdir(out, { recursive: true });
  const files = corpus.domains.flatMap((d) => d.spoolFiles);
  const rowsSql = fillSql(cdrRowsSql('general'), {
    files: `[${files.map(sqlString).join(', ')}]`,
    // Every page holds one domain: take it from the record itself.
    domain: `r."domain"`,
    ingested_at: sqlString(corpus.to.toISOString()),
    range_start: sqlString(corpus.from.toISOString()),
    range_end: sqlString(corpus.to.toISOString()),
    // The corpus holds every id once: no de-duplication pass (as the ingest does for such fetches),
    // so no fetch sequence and no file names either.
    dedup: '',
    fetch_seq: 'NULL::BIGINT',
    join: '',
    part: '',
  });
  const db = await Db.open(':memory:', { settings: { preserve_insertion_order: 'false' } });
  try {
    await db.exec(lakeSql('cdr-macros.sql'));
    // The row SQL reads "domain" from the record only if the JSON schema names it.
    const withDomain = rowsSql.replace(`"id":"VARCHAR",`, `"id":"VARCHAR","domain":"VARCHAR",`);
    if (withDomain === rowsSql) throw new Error('the lake row SQL (lake/row-sql.ts) changed shape: update bench/lib/lake-fixture.ts');
    await db.run(
      `COPY (SELECT * EXCLUDE (fetch_seq), strftime(start_time, '%Y-%m') AS month FROM (${withDomain}))
         TO ${sqlString(out)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE_BYTES '16MB', PARTITION_BY (month, domain), WRITE_PARTITION_COLUMNS false, FILENAME_PATTERN 'data')`,
    );
  } finally {
    db.close();
  }
  const profiles = generateDomains({ seed, count: corpus.domains.length });
  const infos: DomainInfo[] = profiles.map((p) => ({
    domain: p.domain,
    reseller: p.reseller,
    description: p.description,
    timeZone: p.timeZone,
    raw: domainObject(p),
  }));
  const writer = await LakeWriter.open(dataDir, { workDir: join(dataDir, '.bench-writer') });
  try {
    await writer.writeDomains(infos, corpus.to);
  } finally {
    await writer.close();
  }
  await rm(join(dataDir, '.bench-writer'), { recursive: true, force: true });
}
