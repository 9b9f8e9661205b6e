import { join } from 'node:path';
import { evaluateAlerts, type AlertFinding } from '../../pipeline/alerts/index.ts';
import { Db, sqlString } from '../../pipeline/db/duckdb.ts';
import { runIngest } from '../../pipeline/extract/run-ingest.ts';
import { generateDomainDay, utcDayOf } from '../../pipeline/simulator/cdr-gen.ts';
import { generateDomains } from '../../pipeline/simulator/domain-gen.ts';
import { startSimulator } from '../../pipeline/simulator/index.ts';
import { NetSapiensClient } from '../../pipeline/source/index.ts';
import { lakeFileStamps } from '../../pipeline/transform/lake-stamps.ts';
import { lakeCdrsSource } from '../../pipeline/transform/lake-views.ts';
import { buildAlertCalls } from '../../pipeline/alerts/alert-rating.ts';
import { ALERT_MACROS_DIR, ALERT_RULES_DIR, BILLING_MACROS_DIR, readSqlFiles } from '../../pipeline/alerts/rule-files.ts';
import { ruleSettingsRows } from '../../pipeline/alerts/rule-settings.ts';
import { ALERT_RULE_NAMES } from '../../pipeline/config/alerts-schema.ts';
import { systemClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { BENCH_SEED, MONTH_FROM, MONTH_TO } from '../lib/extraction-setup.ts';
import { repeat, repeatPairs, timeIt } from '../lib/measure.ts';
import { buildCorpusLake } from '../lib/corpus-lake.ts';
import { notes, reducedNote, sizeOf, type SizeSpec } from '../lib/sizes.ts';
import { requireFiles } from '../lib/stage.ts';
import { round } from '../lib/stats.ts';
import { info, limitRow } from '../lib/targets.ts';
import type { Scenario } from '../lib/types.ts';

/** A month of CDRs in the lake; the tick is always over 1,000 domains. */
export const ALERTS_ROWS: SizeSpec = { full: 1_000_000, reduced: 100_000 };
const DOMAINS = 1_000;
const NAME = 'alerts';
/** The tick: a busy weekday quarter-hour near the month's end, ingested after everything before it is in the lake. */
const TICK_FROM = new Date('2026-10-30T15:00:00Z');
const TICK_TO = new Date('2026-10-30T15:15:00Z');

/** Simulator volume giving about `rows` CDRs a month, from the month's last week at volume 1. */
function volumeFor(rows: number, seed: number): number {
  const profiles = generateDomains({ seed, count: DOMAINS });
  const last = utcDayOf(MONTH_TO.getTime() - 1);
  let week = 0;
  for (const p of profiles) for (let d = last - 6; d <= last; d++) week += generateDomainDay(p, d, { seed, volume: 1 }).length;
  return rows / 31 / Math.max(1, week / 7);
}

/** The rules as one query over one Parquet file: rating, then every rule's findings in a UNION ALL. */
export async function singleQueryForTest(file: string, ctx: Parameters<typeof buildAlertCalls>[1]): Promise<number> {
  const db = await Db.open(':memory:');
  try {
    for (const m of [...(await readSqlFiles(BILLING_MACROS_DIR())), ...(await readSqlFiles(ALERT_MACROS_DIR()))]) await db.exec(m.sql);
    await db.run(`CREATE VIEW cdrs AS SELECT * FROM read_parquet(${sqlString(file)})`);
    await buildAlertCalls(db, ctx);
    const domains = (await db.all<{ domain: string }>(`SELECT DISTINCT domain FROM alert_calls`)).map((d) => d.domain);
    const rules = (await readSqlFiles(ALERT_RULES_DIR())).filter((r) => (ALERT_RULE_NAMES as readonly string[]).includes(r.name));
    const parts: string[] = [];
    for (const r of rules) {
      const rows = ruleSettingsRows(ctx.config.alerts, r.name as (typeof ALERT_RULE_NAMES)[number], domains);
      const table = `settings_${r.name.replace(/-/g, '_')}`;
      await db.run(`CREATE TABLE ${table} AS SELECT unnest(from_json($1::JSON, $2), recursive := true)`, [
        JSON.stringify(rows),
        JSON.stringify([
          Object.fromEntries(
            Object.entries(rows[0]!).map(([k, v]) => [
              k,
              Array.isArray(v)
                ? 'INTEGER[]'
                : typeof v === 'number'
                  ? Number.isInteger(v)
                    ? 'BIGINT'
                    : 'DOUBLE'
                  : /(_cap|_amount|_floor)$/.test(k)
                    ? 'DECIMAL(18,6)'
                    : 'VARCHAR',
            ]),
          ),
        ]),
      ]);
      const body = r.sql.replace(/;\s*$/, '').replace(/\bsettings\b/g, table);
      parts.push(
        `SELECT domain, key, window_start, calls FROM (\n${body}\n) WHERE window_start >= ${sqlString(MONTH_FROM.toISOString())}::TIMESTAMPTZ`,
      );
    }
    const n = await db.one<{ n: string }>(`SELECT count(*)::VARCHAR AS n FROM (${parts.join('\nUNION ALL\n')})`);
    return Number(n?.n ?? 0);
  } finally {
    db.close();
  }
}

/**
 * Alerts: the evaluation after one 15-minute ingest tick over 1,000 domains, against that tick's
 * ingest time (<= 10%); and a backtest over the month against the same rules run as one DuckDB
 * query over one Parquet file of the same rows (speed >= 0.5x, i.e. time <= 2x).
 */
export const alerts: Scenario = {
  name: NAME,
  title: 'alert evaluation after a 15-minute tick vs its ingest; backtest vs the rules as one query over one file',
  async run(ctx) {
    requireFiles(['pipeline/alerts/evaluate-alerts.ts', 'reports/alerts/spend-velocity.sql']);
    const targetRows = sizeOf(ctx, ALERTS_ROWS);
    // Everything but the tick: the lake as the month's earlier ticks left it.
    // Its own cache folder: the corpus ends at the tick, unlike the other scenarios' full months.
    const { dataDir, config, clock, corpus } = await buildCorpusLake({
      cacheDir: join(ctx.cacheDir, 'alerts'),
      workDir: ctx.workDir,
      domains: DOMAINS,
      targetRows,
      to: TICK_FROM,
      now: new Date(TICK_TO.getTime() + 20 * 60_000),
      log: ctx.log,
    });
    const stage = { dataDir, config, clock, logger: silentLogger() };

    // What the pass after the previous tick recorded beside its cursor: the lake's files as they were.
    const before = await lakeFileStamps(dataDir);
    const seen = new Map(before.files.map((f) => [f.file, f.stamp]));

    const volume = volumeFor(targetRows, BENCH_SEED);
    const sim = await startSimulator({ seed: BENCH_SEED, domains: DOMAINS, volume, clock, dataFrom: MONTH_FROM, dataTo: TICK_TO });
    let ingestMs: number;
    let tickRows: number;
    try {
      const source = NetSapiensClient.create({ baseUrl: sim.url, auth: { kind: 'api-key', apiKey: 'bench' }, clock: systemClock });
      const t = await timeIt(() => runIngest({ ...stage, source, from: TICK_FROM, to: TICK_TO }));
      ingestMs = t.ms;
      tickRows = t.result.rowsWritten;
      ctx.log(`tick ingest: ${tickRows} CDRs of ${DOMAINS} domains in ${t.ms.toFixed(0)} ms`);
    } finally {
      await sim.close();
    }
    const since = corpus.to;
    const live = await repeat(() => evaluateAlerts(stage, { kind: 'live', since, seen }), {
      runs: ctx.runs,
      label: 'tick evaluation',
      log: ctx.log,
    });
    const evaluated = live.results[0]!.callsEvaluated;

    // Backtest vs one file holding the same rows.
    const single = join(ctx.workDir, 'cdrs.parquet');
    const source = lakeCdrsSource(dataDir);
    if (!source) throw new Error(`the lake fixture in ${dataDir} has no Parquet files`);
    const db = await Db.open(':memory:');
    try {
      await db.run(
        `COPY (SELECT * FROM ${source} ORDER BY domain, start_time, id) TO ${sqlString(single)} (FORMAT parquet, COMPRESSION zstd)`,
      );
    } finally {
      db.close();
    }
    const pairs = await repeatPairs(
      async () => (await evaluateAlerts(stage, { kind: 'backtest', from: MONTH_FROM, to: MONTH_TO })).findings,
      () => singleQueryForTest(single, stage),
      { runs: ctx.runs, label: 'backtest vs one query', log: ctx.log },
    );
    for (const s of pairs.samples) {
      const found = (s.a as AlertFinding[]).length;
      if (found !== s.b) throw new Error(`backtest found ${found} findings, the single query ${s.b}: the two disagree`);
    }
    const speed = 1 / pairs.medianRatio;
    return {
      status: 'ok',
      rows: [
        info(NAME, 'CDRs in the lake', corpus.rows + tickRows, 'rows', notes(`${DOMAINS} domains, 1 month`, reducedNote(ctx, ALERTS_ROWS))),
        info(NAME, 'tick ingest (15 minutes, all domains)', ingestMs, 'ms', `${tickRows} CDRs written`),
        info(NAME, 'tick evaluation', live.medianMs, 'ms', `${evaluated} new rows`),
        limitRow(NAME, 'tick evaluation / tick ingest', (100 * live.medianMs) / ingestMs, '%', 10, false),
        info(NAME, 'backtest over the month', pairs.medianAMs, 'ms', `${pairs.samples[0]?.b ?? 0} findings`),
        info(NAME, 'rules as one query over one file', pairs.medianBMs, 'ms'),
        {
          scenario: NAME,
          name: 'backtest speed / rules as one query',
          value: round(speed),
          unit: 'x',
          ratio: round(speed),
          target: '>= 0.5',
          pass: speed >= 0.5,
          note: 'speed = 1 / time; the one query reads one sorted Parquet file of the same rows',
        },
      ],
    };
  },
};
