import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveProjectPath } from '../../pipeline/config/load-config.ts';
import { Db } from '../../pipeline/db/duckdb.ts';
import { isRowOrderFree, loadSqlDir } from '../../pipeline/transform/model-graph.ts';
import { repeatPairs } from '../lib/measure.ts';
import { requireFiles } from '../lib/stage.ts';
import { checkRow, info, ratioRow } from '../lib/targets.ts';
import type { Scenario } from '../lib/types.ts';
import { notes, reducedNote, sizeOf, type SizeSpec } from '../lib/sizes.ts';

/** Full size: 1,000,000 carrier records against 1,000,000 PBX calls. */
export const CARRIER_MATCH_ROWS: SizeSpec = { full: 1_000_000, reduced: 200_000 };

const NAME = 'carrier-match';
/** One carrier record in 100 is a phantom; the rest bill a PBX call, started within ±4 s of its answer. */
const PHANTOM_EVERY = 100;

/**
 * The PBX side (`calls`, the columns carrier_matches reads) and the carrier side (`carrier_calls`):
 * n calls over a month to n/4 destinations (busy numbers are called many times), and a record for
 * every call but the phantoms' share, skewed by up to 4 s either way.
 */
async function buildTables(db: Db, n: number): Promise<void> {
  await db.run(`CREATE OR REPLACE TABLE calls AS
    SELECT
      'd' || (i % 50)::VARCHAR AS domain,
      'call-' || i::VARCHAR AS id,
      TIMESTAMPTZ '2026-10-01 00:00:00+00' + to_seconds((hash(i) % 2592000)::BIGINT) AS start_time,
      TIMESTAMPTZ '2026-10-01 00:00:00+00' + to_seconds((hash(i) % 2592000)::BIGINT + 8) AS answer_time,
      'outbound' AS direction,
      CAST(5 + hash(i * 7) % 600 AS INTEGER) AS talk_s,
      '+1212555' || lpad(((hash(i * 3) % 9000) + 1000)::VARCHAR, 4, '0') AS caller_number,
      '+1415' || lpad((hash(i) % ${Math.max(1, Math.floor(n / 4))} + 2000000)::VARCHAR, 7, '0') AS dialed_e164,
      '+1415' || lpad((hash(i) % ${Math.max(1, Math.floor(n / 4))} + 2000000)::VARCHAR, 7, '0') AS dialed_number
    FROM range(${n}) AS t(i)`);
  await db.run(`CREATE OR REPLACE TABLE carrier_calls AS
    SELECT
      'bench' AS carrier,
      '2026-10' AS month,
      'f:' || (i + 2)::VARCHAR AS record_key,
      CASE WHEN i % ${PHANTOM_EVERY} = 0 THEN 'ph-' ELSE 'cr-' END || i::VARCHAR AS call_id,
      CASE WHEN i % ${PHANTOM_EVERY} = 0 THEN answer_time + INTERVAL 3 HOUR
           ELSE answer_time + to_seconds((hash(i * 11) % 9)::BIGINT - 4) END AS start_time,
      caller_number AS from_number,
      dialed_number AS to_number,
      CASE WHEN i % ${PHANTOM_EVERY} = 0 THEN '+1646555' || lpad((i % 10000)::VARCHAR, 4, '0') ELSE dialed_e164 END AS to_e164,
      CAST(6 + ((talk_s - 6 + 5) // 6) * 6 AS INTEGER) AS billed_seconds,
      CAST(0.0001 * talk_s AS DECIMAL(18, 6)) AS cost,
      'USD' AS currency,
      'bench.csv' AS file_name,
      'f' AS file_sha256,
      CAST(i + 2 AS BIGINT) AS line_number,
      now() AS imported_at
    FROM (SELECT row_number() OVER () - 1 AS i, * FROM calls)`);
  await db.run(`CREATE OR REPLACE TABLE carrier_terms AS SELECT 'bench' AS carrier, 'USD' AS currency, 6 AS initial_increment,
    6 AS subsequent_increment, 5.0::DOUBLE AS time_tolerance_s, 6.0::DOUBLE AS duration_tolerance_s, 0.01::DECIMAL(18,6) AS cost_tolerance,
    false AS has_deck, 0 AS max_disputes, 0 AS max_phantoms, 0::DECIMAL(18,6) AS max_disputed_amount`);
  await db.run(`CREATE OR REPLACE TABLE carrier_rates (carrier VARCHAR, prefix VARCHAR, description VARCHAR, per_minute DECIMAL(18,6),
    initial_increment INTEGER, subsequent_increment INTEGER, minimum_seconds INTEGER, connect_fee DECIMAL(18,6), effective_from DATE)`);
}

/** The columns of the two tables that a carrier_matches row carries: the equi-join writes the same. */
const JOINED_COLUMNS = [
  ...['carrier', 'month', 'record_key', 'file_name', 'line_number', 'call_id', 'start_time', 'from_number', 'to_number', 'to_e164'],
  ...['billed_seconds', 'cost', 'currency'],
]
  .map((c) => `r.${c}`)
  .concat(['domain', 'id', 'answer_time', 'caller_number', 'dialed_number', 'talk_s'].map((c) => `p.${c}`))
  .join(', ');

/**
 * Carrier matching: the carrier_matches model (range join on destination and ±5 s, nearest first,
 * one-to-one) over n carrier records and n PBX calls, against DuckDB's plain equi-join of the same
 * two tables on (destination, answer minute). Target: matching <= 2x the equi-join.
 */
export const carrierMatch: Scenario = {
  name: NAME,
  title: 'carrier_matches (one-to-one, ±5 s, nearest first) vs a plain equi-join on (destination, minute)',
  async run(ctx) {
    requireFiles(['reports/models/carrier_matches.sql']);
    const n = sizeOf(ctx, CARRIER_MATCH_ROWS);
    const path = resolveProjectPath('reports/models/carrier_matches.sql');
    const sql = await readFile(path, 'utf8');
    const model = sql.replace(/;\s*$/, '');
    const db = await Db.open(join(ctx.workDir, 'carrier-match.duckdb'));
    try {
      // As the transform builds it. The setting is session-wide, so the equi-join runs with it too.
      if (isRowOrderFree({ name: 'carrier_matches', path, sql })) await db.run(`SET preserve_insertion_order = false`);
      for (const m of await loadSqlDir(resolveProjectPath('reports/macros'))) await db.exec(m.sql);
      ctx.log(`building ${n} PBX calls and ${n} carrier records`);
      await buildTables(db, n);
      const matching = async () => {
        await db.run(`CREATE OR REPLACE TEMP TABLE bench_matches AS\n${model}\n`);
        const r = await db.one<{ matched: string; phantoms: string }>(
          `SELECT count(*) FILTER (WHERE pbx_id IS NOT NULL AND record_key IS NOT NULL)::VARCHAR AS matched,
                  count(*) FILTER (WHERE status = 'carrier_only')::VARCHAR AS phantoms FROM bench_matches`,
        );
        return { matched: Number(r?.matched), phantoms: Number(r?.phantoms) };
      };
      const equiJoin = async () => {
        // Like for like: the join writes the columns of both tables that a carrier_matches row
        // carries (a join that kept only the keys would leave out the work of assembling rows).
        await db.run(`CREATE OR REPLACE TEMP TABLE bench_join AS
          SELECT ${JOINED_COLUMNS}
          FROM carrier_calls AS r
          JOIN calls AS p ON p.dialed_e164 = r.to_e164 AND date_trunc('minute', p.answer_time) = date_trunc('minute', r.start_time)`);
        const r = await db.one<{ n: string }>(`SELECT count(*)::VARCHAR AS n FROM bench_join`);
        return Number(r?.n);
      };
      const pairs = await repeatPairs(matching, equiJoin, { runs: ctx.runs, label: 'matching vs equi-join', log: ctx.log });
      const phantoms = Math.ceil(n / PHANTOM_EVERY);
      const first = pairs.samples[0]!.a;
      const exact = first.matched === n - phantoms && first.phantoms === phantoms;
      return {
        status: 'ok',
        rows: [
          info(
            NAME,
            'carrier records = PBX calls',
            n,
            'rows',
            notes(`${Math.floor(n / 4)} destinations`, reducedNote(ctx, CARRIER_MATCH_ROWS, 'records')),
          ),
          ratioRow(NAME, 'matching / equi-join (destination, minute)', pairs.medianRatio, { limit: 2 }),
          info(NAME, 'carrier_matches', pairs.medianAMs, 'ms'),
          info(NAME, 'plain equi-join', pairs.medianBMs, 'ms', `${pairs.samples[0]!.b} pairs`),
          checkRow(
            NAME,
            'every record matched but the phantoms',
            exact,
            `${first.matched} matched, ${first.phantoms} phantoms of ${phantoms}`,
          ),
        ],
      };
    } finally {
      db.close();
    }
  },
};
