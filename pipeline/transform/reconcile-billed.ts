/**
 * What the warehouse billed per domain for a local month (as of the last transform).
 */
import { existsSync } from 'node:fs';
import { withDb } from '../db/duckdb.ts';
import { warehousePath } from '../lake/index.ts';
import type { Month } from '../util/month.ts';
import type { ClassTotal } from './reconcile-types.ts';

/** Billed totals and per-class charges by domain; empty when there is no warehouse yet. */
export async function billed(
  month: Month,
  dataDir: string,
  domains: string[],
): Promise<Map<string, { charge: string; billableS: number; currency: string | null; byClass: ClassTotal[] }>> {
  const out = new Map<string, { charge: string; billableS: number; currency: string | null; byClass: ClassTotal[] }>();
  const path = warehousePath(dataDir);
  if (!existsSync(path) || domains.length === 0) return out;
  await withDb(
    path,
    async (db) => {
      const rows = await db.all<{
        domain: string;
        call_class: string;
        calls: number;
        billable_s: string;
        charge: string;
        currency: string | null;
      }>(
        `SELECT domain, call_class, calls::INTEGER AS calls, billable_s::VARCHAR AS billable_s, charge::VARCHAR AS charge, currency
         FROM charges_by_class WHERE local_month = $1 ORDER BY domain, call_class`,
        [month],
      );
      const totals = await db.all<{ domain: string; billable_s: string; charge: string; currency: string | null }>(
        `SELECT domain, billable_s::VARCHAR AS billable_s, charge::VARCHAR AS charge, currency FROM usage_monthly WHERE local_month = $1`,
        [month],
      );
      for (const t of totals) out.set(t.domain, { charge: t.charge, billableS: Number(t.billable_s), currency: t.currency, byClass: [] });
      for (const r of rows)
        out
          .get(r.domain)
          ?.byClass.push({ call_class: r.call_class, calls: Number(r.calls), billable_s: Number(r.billable_s), charge: r.charge });
    },
    { readOnly: true },
  );
  return out;
}
