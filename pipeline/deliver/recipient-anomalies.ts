/**
 * Dropped report recipients as anomalies in state.duckdb (visible in `cdrpipe status`): one open
 * row per (domain, month, entry) however often the reports run, resolved once that domain's
 * recipients resolve cleanly for the month.
 */
import type { DroppedRecipient } from '../config/index.ts';
import type { Db } from '../db/duckdb.ts';
import { recordAnomaly, withState } from '../state/index.ts';
import type { Clock } from '../util/clock.ts';
import { addMonths, type Month } from '../util/month.ts';

export interface DomainRecipients {
  domain: string;
  dropped: readonly DroppedRecipient[];
}

const KIND = 'recipient-dropped';

/** Records each dropped entry once (open rows are not repeated) and resolves the domains whose entries all resolved. */
export async function noteDroppedRecipients(
  dataDir: string,
  month: Month,
  domains: readonly DomainRecipients[],
  clock: Clock,
): Promise<void> {
  if (domains.length === 0) return;
  const windowStart = new Date(`${month}-01T00:00:00Z`);
  const windowEnd = new Date(`${addMonths(month, 1)}-01T00:00:00Z`);
  const range = { ws: windowStart.toISOString(), we: windowEnd.toISOString() };
  await withState(dataDir, async (db: Db) => {
    const open = await db.all<{ anomaly_id: string; domain: string; detail: string | null }>(
      `SELECT anomaly_id, domain, detail FROM anomalies WHERE resolved_at IS NULL AND kind = $kind
         AND window_start = $ws::TIMESTAMPTZ AND window_end = $we::TIMESTAMPTZ`,
      { kind: KIND, ...range },
    );
    for (const d of domains) {
      const mine = open.filter((o) => o.domain === d.domain);
      const reasons = new Set(d.dropped.map((r) => r.reason));
      for (const stale of mine.filter((o) => !reasons.has(o.detail ?? ''))) {
        await db.run(`UPDATE anomalies SET resolved_at = $at::TIMESTAMPTZ WHERE anomaly_id = $id`, {
          id: stale.anomaly_id,
          at: clock.now().toISOString(),
        });
      }
      const recorded = new Set(mine.map((o) => o.detail));
      for (const reason of reasons) {
        if (!recorded.has(reason)) {
          await recordAnomaly(
            db,
            { domain: d.domain, windowStart, windowEnd, kind: KIND, expected: null, got: null, detail: reason },
            clock.now(),
          );
        }
      }
    }
  });
}
