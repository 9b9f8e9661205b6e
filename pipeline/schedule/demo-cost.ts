/**
 * The demo's cost side: one simulated carrier's file for the report month, exported from the
 * simulator's own calls with a few planted discrepancies, imported into the lake with its price
 * list as the buy deck, then reconciled once the warehouse is built.
 */
import { join } from 'node:path';
import type { CdrpipeConfig, StageContext } from '../config/index.ts';
import { exportCarrierFile, importCarrierFile, runCarrierReconcile, type CarrierReconcileLine } from '../carrier/index.ts';
import { withDb } from '../db/duckdb.ts';
import { warehousePath } from '../lake/index.ts';
import type { Month } from '../util/month.ts';

/** The demo's carrier and the discrepancies planted in its file. */
export const DEMO_CARRIER = 'generic';
const PLANTED = { phantoms: 2, inflated: 3, missing: 3, offDeck: 2, skewS: 3, mixedFormats: true } as const;

export interface DemoCostSide {
  carrier: string;
  month: Month;
  file: string;
  priceList: string;
  line?: CarrierReconcileLine;
  disputeFile?: string;
  /** Margin per customer for the month, lowest first (at most 5). */
  margins: { domain: string; revenue: string; cost: string; margin: string; margin_pct: number | null }[];
  /** Why the cost side did not finish, when it did not. */
  error?: string;
}

/** The config with the demo carrier's price list as its buy deck (a configured carrier of the same name wins). */
export function withDemoCarrier(config: CdrpipeConfig, priceList: string): CdrpipeConfig {
  if (config.carriers[DEMO_CARRIER]) return config;
  return { ...config, carriers: { ...config.carriers, [DEMO_CARRIER]: { buyDeck: priceList } } };
}

/** Paths of the demo carrier's file and price list for `month`. */
export function demoCarrierFiles(dataDir: string, month: Month): { file: string; priceList: string } {
  const dir = join(dataDir, 'carrier-demo');
  return { file: join(dir, `${DEMO_CARRIER}-${month}.csv`), priceList: join(dir, `${DEMO_CARRIER}-price-list.csv`) };
}

/** Exports and imports the carrier file (before the warehouse is built). Same seed, same bytes: a re-run imports nothing new. */
export async function importDemoCarrierFile(
  ctx: StageContext,
  sim: { seed: number; domains: number; volume: number },
  month: Month,
): Promise<{ file: string; priceList: string }> {
  const files = demoCarrierFiles(ctx.dataDir, month);
  await exportCarrierFile({
    month,
    seed: sim.seed,
    domains: sim.domains,
    volume: sim.volume,
    carrier: DEMO_CARRIER,
    out: files.file,
    priceList: files.priceList,
    ...PLANTED,
  });
  await importCarrierFile({ ...ctx, file: files.file, carrier: DEMO_CARRIER });
  return files;
}

/** Reconciles the month on the warehouse the monthly job just built, and reads the lowest margins. */
export async function reconcileDemoCarrier(
  ctx: StageContext,
  month: Month,
  files: { file: string; priceList: string },
): Promise<DemoCostSide> {
  const result = await runCarrierReconcile({ ...ctx, month, carrier: DEMO_CARRIER, transform: false });
  const margins = await withDb(
    warehousePath(ctx.dataDir),
    (db) =>
      db.all<DemoCostSide['margins'][number] & Record<string, unknown>>(
        `SELECT domain, CAST(sum(revenue) AS DECIMAL(18, 2)) AS revenue, CAST(sum(cost) AS DECIMAL(18, 2)) AS cost,
                CAST(sum(margin) AS DECIMAL(18, 2)) AS margin,
                CASE WHEN sum(revenue) = 0 THEN NULL ELSE round(CAST(sum(margin) AS DOUBLE) * 100 / CAST(sum(revenue) AS DOUBLE), 1) END AS margin_pct
         FROM margin_monthly WHERE month = $1 GROUP BY domain ORDER BY sum(margin), domain LIMIT 5`,
        [month],
      ),
    { readOnly: true },
  );
  return {
    carrier: DEMO_CARRIER,
    month,
    ...files,
    ...(result.lines[0] ? { line: result.lines[0] } : {}),
    ...(result.disputeFiles[DEMO_CARRIER] ? { disputeFile: result.disputeFiles[DEMO_CARRIER] } : {}),
    margins,
  };
}
