/** Reads the cost side of a month for the billing team's report (carrier_matches, margin_monthly, unbilled_carrier_calls). */
import type { Db } from '../db/duckdb.ts';
import { querySql } from './warehouse-queries.ts';

export interface CostCarrierRow {
  carrier: string;
  currency: string;
  records: string;
  matched: string;
  disputes: string;
  phantoms: string;
  missing: string;
  carrier_cost: string;
  disputed_amount: string;
}

export interface CostMarginRow {
  domain: string;
  currency: string;
  calls: string;
  revenue: string;
  cost: string;
  margin: string;
  margin_pct: number | null;
}

export interface CostDestinationRow {
  destination_prefix: string;
  destination: string;
  call_class: string;
  carrier: string;
  currency: string;
  calls: string;
  revenue: string;
  cost: string;
  margin: string;
}

export interface CostLeakageRow {
  domain: string;
  reason: string;
  carrier: string;
  currency: string;
  calls: string;
  carrier_cost: string;
}

export interface CostSectionRows {
  carriers: CostCarrierRow[];
  margins: CostMarginRow[];
  negative: CostDestinationRow[];
  leakage: CostLeakageRow[];
}

/**
 * The month's cost rows, or undefined when no carrier has records for the month (the report then
 * has no cost section), or when the warehouse predates the carrier models.
 */
export async function queryCostSection(db: Db, month: string): Promise<CostSectionRows | undefined> {
  const all = <T>(name: Parameters<typeof querySql>[0]) => db.all(querySql(name), { month }) as unknown as Promise<T[]>;
  let carriers: CostCarrierRow[];
  try {
    carriers = await all<CostCarrierRow>('cost-carriers');
  } catch (err) {
    if (/carrier_matches does not exist/i.test(err instanceof Error ? err.message : String(err))) return undefined;
    throw err;
  }
  if (carriers.length === 0) return undefined;
  return {
    carriers,
    margins: await all<CostMarginRow>('cost-margin-customers'),
    negative: await all<CostDestinationRow>('cost-negative-destinations'),
    leakage: await all<CostLeakageRow>('cost-leakage'),
  };
}
