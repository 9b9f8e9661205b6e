import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { readEnv } from '../config/index.ts';
import { LAKE_DDL_ENGINES, type LakeDdlEngine, lakeDdl, lakeDir, listLakePartitions, parseLakeLocation } from '../lake/index.ts';

/** `cdrpipe lake ddl --engine E [--location URL]`: the statements that expose the lake in another engine. */
export function registerLake(program: Command): void {
  const lake = program.command('lake').description('the lake as other engines see it: DDL for DuckDB, Athena, Trino, Spark, ClickHouse');
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
      const location = parseLakeLocation(opts.location ?? lakeDir(dataDir));
      const local = location.kind === 'local' ? { ...location, path: resolve(location.path) } : location;
      // Partition values feed Athena's projection; they are read from the local lake when that is the one described.
      const partitions = local.kind === 'local' || opts.location === undefined ? listLakePartitions(dataDir) : undefined;
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
