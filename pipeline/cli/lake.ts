import { withLakeAccess } from './lake-access.ts';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { readEnv, readStoreEnv } from '../config/index.ts';
import { DEFAULT_COMPACT_MIN_AGE_DAYS, formatCompact, runCompact } from '../extract/index.ts';
import { LAKE_DDL_ENGINES, type LakeDdlEngine, lakeDdl, lakeDir, listLakePartitions, parseLakeLocation } from '../lake/index.ts';
import { UsageError } from '../util/errors.ts';

/** `cdrpipe lake ddl --engine E [--location URL]`: the statements that expose the lake in another engine. */
export function registerLake(program: Command): void {
  const lake = program
    .command('lake')
    .description('the lake as other engines see it (ddl) and its compacted shape for closed months (compact)');
  registerLakeCompact(lake);
  lake
    .command('ddl')
    .description('print the statements that expose the lake as a table or view named `cdrs` (lake columns plus month and domain)')
    .addOption(new Option('--engine <engine>', 'the engine to write statements for').choices([...LAKE_DDL_ENGINES]).makeOptionMandatory())
    .option('--location <url>', 'the lake root: a directory, or s3://bucket/prefix (default: the configured lake)')
    .option('--endpoint <url>', 'S3 endpoint of a store other than AWS (path-style), e.g. http://minio:9000')
    .option('--region <region>', 'AWS region of the bucket', 'us-east-1')
    .addHelpText(
      'after',
      `
The column list comes from the schema the lake writer uses. DuckDB's statements are run against a
real lake by the test suite; the others follow each engine's documented Hive/Parquet handling.

Examples:
  cdrpipe lake ddl --engine duckdb > lake.sql && duckdb -init lake.sql
  cdrpipe lake ddl --engine athena --location s3://cdr-lake/prod
  cdrpipe lake ddl --engine clickhouse --location s3://cdr-lake/prod --endpoint http://minio:9000
`,
    )
    .action((opts: { engine: LakeDdlEngine; location?: string; endpoint?: string; region: string }) => {
      const dataDir = resolve(readEnv().dataDir);
      // The configured lake: the bucket of CDRPIPE_LAKE_URL (with its endpoint and region), else data/lake.
      const store = opts.location === undefined ? readStoreEnv() : undefined;
      const location = parseLakeLocation(opts.location ?? store?.lake.url ?? lakeDir(dataDir));
      opts.endpoint ??= store?.endpoint;
      if (store) opts.region = store.region;
      const local = location.kind === 'local' ? { ...location, path: resolve(location.path) } : location;
      // Partition values feed Athena's projection: from the lake described, or the bucket's local copy.
      const listed = local.kind === 'local' ? local.path : store ? lakeDir(dataDir) : undefined;
      const partitions = listed ? listLakePartitions(listed) : undefined;
      process.stdout.write(
        lakeDdl({
          engine: opts.engine,
          location: local,
          months: partitions?.months,
          domains: partitions?.domains,
          endpoint: opts.endpoint,
          region: opts.region,
        }),
      );
    });
}

/** `cdrpipe lake compact [--month M]... [--min-age-days N] [--json]`: closed months into their compacted shape. */
export function registerLakeCompact(lake: Command): void {
  withLakeAccess('writes', lake.command('compact'))
    .description('rewrite closed months as a few files sorted by domain (at most 16 per month); atomic and idempotent')
    .option(
      '--month <YYYY-MM>',
      'a month to compact (repeatable); default: every closed month not yet compacted',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option('--min-age-days <n>', 'a month is closed once it ended this many days ago', String(DEFAULT_COMPACT_MIN_AGE_DAYS))
    .option('--json', 'print the result as JSON')
    .action(async (opts: { month: string[]; minAgeDays: string; json?: boolean }) => {
      const minAgeDays = Number(opts.minAgeDays);
      if (!Number.isInteger(minAgeDays) || minAgeDays < 0)
        throw new UsageError(`--min-age-days ${JSON.stringify(opts.minAgeDays)}: expected a whole number of days, e.g. 7`);
      const dataDir = resolve(readEnv().dataDir);
      const results = await runCompact({ dataDir, months: opts.month, minAgeDays, now: new Date() });
      process.stdout.write(opts.json ? JSON.stringify({ months: results }) + '\n' : formatCompact(results));
    });
}
