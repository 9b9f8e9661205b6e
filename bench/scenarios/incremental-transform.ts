import { join } from 'node:path';
import { loadConfig } from '../../pipeline/config/load-config.ts';
import { withDb } from '../../pipeline/db/duckdb.ts';
import { warehousePath } from '../../pipeline/lake/layout.ts';
import { runTransform, type TransformSummary } from '../../pipeline/transform/run-transform.ts';
import { FixedClock } from '../../pipeline/util/clock.ts';
import { silentLogger } from '../../pipeline/util/logger.ts';
import { domainName, historyLake, tickDomains } from '../lib/history-lake.ts';
import { median } from '../lib/stats.ts';
import { timeIt } from '../lib/measure.ts';
import { requireFiles } from '../lib/stage.ts';
import { checkRow, info, ratioRow } from '../lib/targets.ts';
import type { Scenario } from '../lib/types.ts';
import { notes, reducedNote, sizeOf, type SizeSpec } from '../lib/sizes.ts';

const NAME = 'incremental-transform';
const DOMAINS = 100;
const MONTHS = [
  '2025-12',
  '2026-01',
  '2026-02',
  '2026-03',
  '2026-04',
  '2026-05',
  '2026-06',
  '2026-07',
  '2026-08',
  '2026-09',
  '2026-10',
  '2026-11',
];
const CURRENT = '2026-11';
/** Mid-November: eleven months closed (and frozen after the first build), November open. */
const NOW = new Date('2026-11-20T12:00:00Z');
const TOUCHED = 10;
/** Full size: 5,040,000 CDRs (4,200 per domain-month); reduced: 60,000. */
export const HISTORY_ROWS: SizeSpec = { full: 5_040_000, reduced: 60_000 };

/** Every table's row count and an order-free hash of its rows: equal for equal tables. */
async function tableDigest(path: string): Promise<string> {
  return withDb(
    path,
    async (db) => {
      const tables = await db.all<{ name: string }>(
        `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name`,
      );
      const parts: string[] = [];
      for (const { name } of tables) {
        const r = await db.one<{ d: string }>(
          `SELECT count(*)::VARCHAR || '/' || coalesce(sum(hash(t))::VARCHAR, '0') AS d FROM main."${name}" AS t`,
        );
        parts.push(`${name}=${r?.d}`);
      }
      return parts.join(' ');
    },
    { readOnly: true },
  );
}

/**
 * Incremental transform: a lake of 12 months x 100 domains; after a tick that touched 10 domains of
 * the current month, a transform costs <= 10% of a full rebuild, and its warehouse equals the
 * full rebuild's (every table's rows hashed).
 */
export const incrementalTransform: Scenario = {
  name: NAME,
  title: 'transform after a tick touching 10 of 100 domains (12 months of history) vs a full rebuild',
  async run(ctx) {
    requireFiles(['pipeline/transform/run-transform.ts', 'pipeline/transform/build-manifest.ts']);
    const rows = sizeOf(ctx, HISTORY_ROWS);
    const perDomainMonth = Math.max(1, Math.round(rows / (DOMAINS * MONTHS.length)));
    const dataDir = join(ctx.workDir, 'data');
    await historyLake(ctx.cacheDir, dataDir, { months: MONTHS, domains: DOMAINS, perDomainMonth }, ctx.log);
    const config = await loadConfig();
    const clock = new FixedClock(NOW);
    const transform = (full: boolean) => timeIt(() => runTransform({ dataDir, config, logger: silentLogger(), clock, full }));

    const first = await transform(true);
    ctx.log(`full build: ${first.ms.toFixed(0)} ms, ${first.result.rows} rated calls, status ${first.result.status}`);
    // The first build froze the closed months; the next one takes their frozen ratings in (once a month in production).
    const settle = await transform(false);
    ctx.log(`settling build (months frozen by the first): ${settle.ms.toFixed(0)} ms, ${settle.result.build.recomputed} domain-months`);

    const incremental: number[] = [];
    let last: TransformSummary | undefined;
    for (let run = 0; run < ctx.runs; run++) {
      const touched = Array.from({ length: TOUCHED }, (_, i) => domainName((run * 37 + i * 9) % DOMAINS));
      await tickDomains(dataDir, CURRENT, touched, 20, `tick${run}`);
      const t = await transform(false);
      incremental.push(t.ms);
      last = t.result;
      ctx.log(
        `tick ${run + 1}/${ctx.runs}: ${t.ms.toFixed(0)} ms, ${t.result.build.mode}, ${t.result.build.recomputed} of ${t.result.build.domainMonths} domain-months`,
      );
    }
    const incrementalDigest = await tableDigest(warehousePath(dataDir));
    const full = await transform(true);
    ctx.log(`full rebuild: ${full.ms.toFixed(0)} ms`);
    const same = incrementalDigest === (await tableDigest(warehousePath(dataDir)));
    const fullMs = median([first.ms, full.ms]);
    const incMs = median(incremental);
    return {
      status: 'ok',
      rows: [
        info(
          NAME,
          'CDRs in the lake',
          DOMAINS * MONTHS.length * perDomainMonth,
          'rows',
          notes(`${DOMAINS} domains x ${MONTHS.length} months`, reducedNote(ctx, HISTORY_ROWS)),
        ),
        ratioRow(
          NAME,
          'transform after a 10-domain tick / full rebuild',
          incMs / fullMs,
          { limit: 0.1 },
          `${last?.build.recomputed ?? '?'} of ${last?.build.domainMonths ?? '?'} domain-months recomputed per tick`,
        ),
        info(NAME, 'full rebuild', fullMs, 'ms', 'median of the first build and a --full rebuild'),
        info(NAME, 'transform after a tick', incMs, 'ms', `median of ${ctx.runs} ticks`),
        checkRow(NAME, 'incremental warehouse equals the full rebuild', same, 'every table: row count and hash of its rows'),
      ],
    };
  },
};
