/**
 * The billing report's cost section: per carrier totals and disputes (the UTC month, as carriers
 * invoice it), margin per customer lowest first, destinations that lost money, and leakage (the
 * customers' local month, as the rest of the report). Pure: rows in, display strings out.
 */
import { formatMoney } from '../util/money.ts';
import type { CostSectionRows } from './cost-queries.ts';
import { formatInt } from './format.ts';

/** Lines of each list the HTML part shows (the text part shows them all). */
export const COST_HTML_ROWS = 25;

export interface CostSectionView {
  carriers: {
    carrier: string;
    records: string;
    matched: string;
    disputes: string;
    phantoms: string;
    missing: string;
    cost: string;
    disputed: string;
    attention: boolean;
  }[];
  margins: { domain: string; calls: string; revenue: string; cost: string; margin: string; pct: string; negative: boolean }[];
  htmlMargins: CostSectionView['margins'];
  negative: {
    prefix: string;
    destination: string;
    callClass: string;
    carrier: string;
    calls: string;
    revenue: string;
    cost: string;
    margin: string;
  }[];
  leakage: { domain: string; reason: string; reasonLabel: string; carrier: string; calls: string; cost: string }[];
  anyNegative: boolean;
  anyLeakage: boolean;
  leakageCalls: string;
}

/** What each unbilled_carrier_calls.reason means, as the billing team reads it. */
export const LEAKAGE_REASONS: Record<string, string> = {
  registration_noise: 'registration noise on our side',
  self_call: 'self-call on our side',
  unpriced: 'no sell-side rate',
  free_to_customer: 'free to the customer',
};

const money = (amount: string, currency: string) => formatMoney(amount, currency, 2);
const pct = (p: number | null) => (p === null ? '—' : `${p.toFixed(1)} %`);

/** Pure: the cost rows of a month -> display strings for the billing report's templates. */
export function buildCostSectionView(rows: CostSectionRows): CostSectionView {
  const margins = rows.margins.map((m) => ({
    domain: m.domain,
    calls: formatInt(m.calls),
    revenue: money(m.revenue, m.currency),
    cost: money(m.cost, m.currency),
    margin: money(m.margin, m.currency),
    pct: pct(m.margin_pct),
    negative: m.margin.startsWith('-'),
  }));
  return {
    carriers: rows.carriers.map((c) => ({
      carrier: c.carrier,
      records: formatInt(c.records),
      matched: formatInt(c.matched),
      disputes: formatInt(c.disputes),
      phantoms: formatInt(c.phantoms),
      missing: formatInt(c.missing),
      cost: money(c.carrier_cost, c.currency),
      disputed: money(c.disputed_amount, c.currency),
      attention: String(c.disputes) !== '0' || String(c.phantoms) !== '0',
    })),
    margins,
    htmlMargins: margins.slice(0, COST_HTML_ROWS),
    negative: rows.negative.map((n) => ({
      prefix: n.destination_prefix || '?',
      destination: n.destination,
      callClass: n.call_class,
      carrier: n.carrier,
      calls: formatInt(n.calls),
      revenue: money(n.revenue, n.currency),
      cost: money(n.cost, n.currency),
      margin: money(n.margin, n.currency),
    })),
    leakage: rows.leakage.map((l) => ({
      domain: l.domain,
      reason: l.reason,
      reasonLabel: LEAKAGE_REASONS[l.reason] ?? l.reason,
      carrier: l.carrier,
      calls: formatInt(l.calls),
      cost: money(l.carrier_cost, l.currency),
    })),
    anyNegative: rows.negative.length > 0,
    anyLeakage: rows.leakage.length > 0,
    leakageCalls: formatInt(rows.leakage.reduce((n, l) => n + BigInt(l.calls), 0n)),
  };
}
