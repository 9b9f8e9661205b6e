/**
 * Records each domain's reconciliation in the state database, replacing an earlier check of the
 * same month.
 */
import { withState } from '../state/index.ts';
import type { ReconcileRow } from './reconcile-types.ts';

/** Stores the rows as checked at `checkedAt`. */
export async function recordReconciliations(
  dataDir: string,
  rows: readonly ReconcileRow[],
  checkedAt: Date,
  signal?: AbortSignal,
): Promise<void> {
  await withState(
    dataDir,
    async (s) => {
      for (const r of rows) {
        await s.run(
          `INSERT OR REPLACE INTO reconciliations (month, domain, status, detail, checked_at, time_zone, window_start, window_end,
             api_total, api_seconds, lake_total, lake_seconds, duplicate_ids, rejects, open_anomalies, billed_charge, billed_s, currency, by_class)
           VALUES ($1, $2, $3, $4, $5::TIMESTAMPTZ, $6, $7::TIMESTAMPTZ, $8::TIMESTAMPTZ, $9, $10, $11, $12, $13, $14, $15, $16::DECIMAL(18,6), $17, $18, $19::JSON)`,
          [
            r.month,
            r.domain,
            r.status,
            r.detail,
            checkedAt.toISOString(),
            r.timeZone,
            r.windowStart,
            r.windowEnd,
            r.apiTotal,
            r.apiSeconds,
            r.lakeTotal,
            r.lakeSeconds,
            r.duplicateIds,
            r.rejects,
            r.openAnomalies,
            r.billedCharge,
            r.billedS,
            r.currency,
            JSON.stringify(r.byClass),
          ],
        );
      }
    },
    { signal },
  );
}
