import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Db, sqlString } from '../../pipeline/db/duckdb.ts';
import { compactLake, lakeDdl, monthPartitions, parseLakeLocation } from '../../pipeline/lake/index.ts';
import { repeatPairs, timeIt } from '../lib/measure.ts';
import { notes } from '../lib/sizes.ts';
import { info, limitRow, ratioRow } from '../lib/targets.ts';
import type { Scenario } from '../lib/types.ts';

const NAME = 'lake-compact';
const MONTH = '2026-10';
const CDRS_PER_DOMAIN_PER_DAY = 20;
const DAYS = 31;

/** The analyst's month roll-up: per domain, calls, talk and call seconds, distinct numbers dialled. */
const ROLL_UP = `SELECT domain, count(*) AS calls, sum(talk_s) AS talk_s, sum(duration_s) AS duration_s, count(DISTINCT dialed_number) AS numbers
FROM cdrs WHERE month = '${MONTH}' GROUP BY domain`;
/**
 * The roll-up's 5,000 rows summed into one, every aggregate kept: a total that leaves an aggregate
 * out lets DuckDB drop it from the plan (and the columns it reads), so less than the roll-up runs.
 */
const ROLL_UP_TOTALS = `SELECT sum(calls)::VARCHAR AS calls, sum(talk_s)::VARCHAR AS talk_s, sum(duration_s)::VARCHAR AS duration_s, sum(numbers)::VARCHAR AS numbers
FROM (${ROLL_UP})`;
/** Calls and talk seconds only: DuckDB drops the distinct numbers and call seconds, so the view's fixed cost weighs most here. */
const CALLS_AND_TALK = `SELECT sum(calls)::VARCHAR AS calls, sum(talk_s)::VARCHAR AS talk_s FROM (${ROLL_UP})`;

/**
 * A month of 5,000 domains (~20 CDRs per domain per day) as per-domain partitions, compacted with
 * `lake compact`, then the analyst's month roll-up through the `cdrs` view that `cdrpipe lake ddl
 * --engine duckdb` prints, against the same SQL over one Parquet file of the same rows sorted by
 * domain. Targets: compacted / one file <= 1.5, at most 16 files in the compacted month.
 */
export const lakeCompact: Scenario = {
  name: NAME,
  title: 'month roll-up over 5,000 domains: compacted lake vs one sorted Parquet file (and the per-domain layout)',
  async run(ctx) {
    const domains = Math.max(100, Math.round((ctx.full ? 5_000 : 5_000) * ctx.scale));
    const dataDir = join(ctx.workDir, 'data');
    const lake = join(dataDir, 'lake', 'cdrs');
    await mkdir(lake, { recursive: true });
    const single = join(ctx.workDir, 'one-sorted.parquet');
    // Writing 5,000 partitions at once holds a buffer per open file: the generator gets room, the timed queries do not need it.
    const db = await Db.open(':memory:', { settings: { memory_limit: '8GB', temp_directory: join(ctx.workDir, 'spill') } });
    try {
      // Rows shaped like the lake's (the columns a roll-up reads, plus raw JSON of a realistic size).
      const build = await timeIt(() =>
        db.run(`CREATE TABLE gen AS
          SELECT 'd' || lpad((i % ${domains})::VARCHAR, 5, '0') || '.pbx.example' AS domain, '${MONTH}' AS month,
                 i::VARCHAR AS id,
                 TIMESTAMPTZ '${MONTH}-01 00:00:00+00' + to_seconds((hash(i) % ${DAYS * 86_400})::BIGINT) AS start_time,
                 (hash(i, 1) % 900)::INTEGER AS duration_s, (hash(i, 2) % 600)::INTEGER AS talk_s,
                 ['outbound', 'inbound', 'missed', 'internal'][1 + (i % 4)::INTEGER] AS direction,
                 (100 + i % 50)::VARCHAR AS orig_user, '1415555' || lpad((hash(i, 3) % 10000)::VARCHAR, 4, '0') AS dialed_number,
                 json_object('id', i::VARCHAR, 'call-orig-user', (100 + i % 50)::VARCHAR, 'call-disconnect-reason-text', 'Normal Clearing',
                             'call-term-user', '1415555' || lpad((hash(i, 3) % 10000)::VARCHAR, 4, '0')) AS raw
          FROM range(${domains * CDRS_PER_DOMAIN_PER_DAY * DAYS}) t(i)`),
      );
      await db.run(`COPY (SELECT * FROM gen) TO ${sqlString(lake)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (month, domain))`);
      await db.run(
        `COPY (SELECT * EXCLUDE (month) FROM gen ORDER BY domain, start_time, id) TO ${sqlString(single)} (FORMAT parquet, COMPRESSION zstd)`,
      );
      const rows = Number((await db.one<{ n: number }>('SELECT count(*)::INTEGER AS n FROM gen'))?.n ?? 0);
      await db.run('DROP TABLE gen');
      ctx.log(`${rows} CDRs of ${domains} domains written as per-domain partitions in ${Math.round(build.ms)} ms`);

      const viewSql = lakeDdl({ engine: 'duckdb', location: parseLakeLocation(join(dataDir, 'lake')) });
      const overLake = (sql: string) => async () => {
        await db.run(viewSql);
        return db.all(sql);
      };
      const overSingle = (sql: string) => async () => {
        await db.run(`CREATE OR REPLACE VIEW cdrs AS SELECT *, '${MONTH}' AS month FROM read_parquet(${sqlString(single)})`);
        return db.all(sql);
      };
      const perDomain = await repeatPairs(overLake(ROLL_UP_TOTALS), overSingle(ROLL_UP_TOTALS), {
        runs: ctx.runs,
        label: 'per-domain partitions vs one file',
        log: ctx.log,
      });

      const compaction = await timeIt(() =>
        compactLake({ dataDir, workDir: join(ctx.workDir, 'work'), now: new Date('2026-12-01T00:00:00Z'), minAgeDays: 7 }),
      );
      const files = monthPartitions(dataDir, MONTH).generations.at(-1)?.files.length ?? 0;
      const left = (await readdir(join(lake, `month=${MONTH}`))).length;
      ctx.log(`compacted in ${Math.round(compaction.ms)} ms: ${files} files, ${left} partition director(ies) left`);
      const compacted = await repeatPairs(overLake(ROLL_UP_TOTALS), overSingle(ROLL_UP_TOTALS), {
        runs: ctx.runs,
        label: 'compacted vs one file',
        log: ctx.log,
      });
      const narrow = await repeatPairs(overLake(CALLS_AND_TALK), overSingle(CALLS_AND_TALK), {
        runs: ctx.runs,
        label: 'calls and talk seconds only, compacted vs one file',
        log: ctx.log,
      });
      for (const s of [...compacted.samples, ...perDomain.samples, ...narrow.samples]) {
        if (JSON.stringify(s.a) !== JSON.stringify(s.b))
          throw new Error(`roll-up differs: lake ${JSON.stringify(s.a)}, one file ${JSON.stringify(s.b)}`);
      }
      return {
        status: 'ok',
        rows: [
          info(NAME, 'CDRs in the month', rows, 'rows', notes(`${domains} domains x ${CDRS_PER_DOMAIN_PER_DAY} per day x ${DAYS} days`)),
          ratioRow(
            NAME,
            'month roll-up: compacted lake / one sorted file',
            compacted.medianRatio,
            { limit: 1.5 },
            'through the view `cdrpipe lake ddl --engine duckdb` prints',
          ),
          limitRow(NAME, 'files in the compacted month', files, 'files', 16, false),
          info(
            NAME,
            'month roll-up: per-domain partitions / one sorted file',
            perDomain.medianRatio,
            'x',
            `${domains} files before compaction`,
          ),
          info(NAME, 'month roll-up over the compacted lake', compacted.medianAMs, 'ms'),
          info(NAME, 'month roll-up over one sorted file', compacted.medianBMs, 'ms'),
          info(
            NAME,
            'calls and talk seconds only: compacted lake / one sorted file',
            narrow.medianRatio,
            'x',
            `${Math.round(narrow.medianAMs)} ms vs ${Math.round(narrow.medianBMs)} ms: DuckDB reads two columns, so the view's fixed cost (binding its listing and scans) weighs most`,
          ),
          info(NAME, 'lake compact of the month', compaction.ms, 'ms'),
        ],
      };
    } finally {
      db.close();
    }
  },
};
