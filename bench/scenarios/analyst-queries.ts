import { copyFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveProjectPath } from '../../pipeline/config/load-config.ts';
import { Db, sqlString } from '../../pipeline/db/duckdb.ts';
import { warehousePath } from '../../pipeline/lake/layout.ts';
import { lakeCdrsSource } from '../../pipeline/transform/lake-views.ts';
import { loadSqlDir, orderModels, type Model } from '../../pipeline/transform/model-graph.ts';
import { BENCH_NOW } from '../lib/extraction-setup.ts';
import { repeatPairs } from '../lib/measure.ts';
import { buildCorpusLake } from '../lib/corpus-lake.ts';
import { requireFiles } from '../lib/stage.ts';
import { info, ratioRow } from '../lib/targets.ts';
import type { Scenario } from '../lib/types.ts';
import { domainsFor, notes, reducedNote, sizeOf, type SizeSpec } from '../lib/sizes.ts';

/** Full size: 2,000,000 CDRs (10M with --scale 5); domains grow with rows (200 per 1M). */
export const ANALYST_ROWS: SizeSpec = { full: 2_000_000, reduced: 200_000 };

const NAME = 'analyst-queries';
const TARGET_MODEL = 'usage_monthly';

/** The models `target` needs, in build order (itself last). */
function closure(models: readonly Model[], target: string): Model[] {
  const byName = new Map(models.map((m) => [m.name, m]));
  const need = new Set<string>();
  const visit = (name: string) => {
    if (need.has(name)) return;
    need.add(name);
    for (const d of byName.get(name)?.dependsOn ?? []) visit(d);
  };
  visit(target);
  return models.filter((m) => need.has(m.name));
}

/**
 * Analyst queries: the usage_monthly model, with every model it depends on evaluated from the
 * CDRs (as views, so the whole chain runs each time), over the partitioned lake and over one
 * Parquet file of the same rows sorted by (domain, start_time). Partitioning must not tax
 * analysts: lake / single file <= 1.5.
 */
export const analystQueries: Scenario = {
  name: NAME,
  title: 'usage_monthly over the partitioned lake vs one sorted Parquet file of the same rows',
  async run(ctx) {
    requireFiles(['pipeline/transform/run-transform.ts', 'reports/models/usage_monthly.sql', 'pipeline/lake/lake-writer.ts']);
    const targetRows = sizeOf(ctx, ANALYST_ROWS);
    const domains = domainsFor(targetRows, 20);
    const { dataDir, corpus } = await buildCorpusLake({
      cacheDir: ctx.cacheDir,
      workDir: ctx.workDir,
      domains,
      targetRows,
      now: BENCH_NOW,
      transform: true,
      log: ctx.log,
    });

    const lakeSource = lakeCdrsSource(dataDir);
    if (!lakeSource) throw new Error(`the lake fixture in ${dataDir} has no Parquet files`);
    const single = join(ctx.workDir, 'cdrs-sorted.parquet');
    const scratch = join(ctx.workDir, 'scratch.duckdb');
    await copyFile(warehousePath(dataDir), scratch);
    const db = await Db.open(scratch);
    try {
      await db.run(
        `COPY (SELECT * FROM ${lakeSource} ORDER BY domain, start_time, id) TO ${sqlString(single)} (FORMAT parquet, COMPRESSION zstd)`,
      );
      for (const m of await loadSqlDir(resolveProjectPath('reports/macros'))) await db.exec(m.sql);
      const models = closure(orderModels(await loadSqlDir(resolveProjectPath('reports/models'))), TARGET_MODEL);
      const upstream = models.filter((m) => m.name !== TARGET_MODEL);
      const target = models.find((m) => m.name === TARGET_MODEL);
      if (!target) throw new Error(`no model ${TARGET_MODEL} in reports/models`);
      // Upstream models become views: the timed query then reads the CDRs, not stored results.
      for (const m of [...upstream].reverse()) await db.run(`DROP TABLE IF EXISTS ${m.name}`);
      for (const m of upstream) await db.run(`CREATE OR REPLACE VIEW ${m.name} AS\n${m.sql.replace(/;\s*$/, '')}\n`);
      ctx.log(`timing ${TARGET_MODEL} over views ${upstream.map((m) => m.name).join(', ')}`);

      const over = async (source: string) => {
        await db.run(`CREATE OR REPLACE VIEW cdrs AS SELECT * FROM ${source}`);
        await db.run(`CREATE OR REPLACE TEMP TABLE bench_usage AS\n${target.sql.replace(/;\s*$/, '')}\n`);
        const r = await db.one<{ n: string; calls: string; charge: string }>(
          `SELECT count(*)::VARCHAR AS n, sum(calls)::VARCHAR AS calls, sum(charge)::VARCHAR AS charge FROM bench_usage`,
        );
        return `${r?.n}/${r?.calls}/${r?.charge}`;
      };
      const pairs = await repeatPairs(
        () => over(lakeSource),
        () => over(`read_parquet(${sqlString(single)})`),
        { runs: ctx.runs, label: 'lake vs one sorted file', log: ctx.log },
      );
      for (const s of pairs.samples)
        if (s.a !== s.b) throw new Error(`usage_monthly differs: lake ${s.a}, single file ${s.b} (rows/calls/charge)`);
      return {
        status: 'ok',
        rows: [
          info(
            NAME,
            'CDRs in the lake',
            corpus.rows,
            'rows',
            notes(`${corpus.domains.length} domains, 1 month`, reducedNote(ctx, ANALYST_ROWS)),
          ),
          ratioRow(
            NAME,
            'usage_monthly: lake / one sorted file',
            pairs.medianRatio,
            { limit: 1.5 },
            `models as views: ${models.map((m) => m.name).join(' -> ')}`,
          ),
          info(NAME, 'usage_monthly over the lake', pairs.medianAMs, 'ms'),
          info(NAME, 'usage_monthly over one sorted file', pairs.medianBMs, 'ms'),
        ],
      };
    } finally {
      db.close();
      await rm(scratch, { force: true });
    }
  },
};
