/** The billing team's report: every domain's billed totals for the month and its reconciliation status. */
import { csvNumber, toCsv } from '../util/csv.ts';
import { formatMoney, formatScaled, MONEY_SCALE, parseDecimal } from '../util/money.ts';
import { formatInt, formatMinutes } from './format.ts';
import { localMonthPeriod } from './period.ts';
import type { BillingSummaryRow, UnbillableRow } from './warehouse-queries.ts';

export const RECONCILE_STATUSES = ['ok', 'off', 'not reconciled'] as const;
export type ReconcileStatus = (typeof RECONCILE_STATUSES)[number];

export interface ReconciliationRow {
  domain: string;
  status: string;
  detail: string | null;
}

export interface BillingLine {
  domain: string;
  customer: string;
  timeZone: string;
  calls: string;
  billableMinutes: string;
  charge: string;
  status: ReconcileStatus;
  statusClass: 'ok' | 'off' | 'none';
  detail: string;
}

/** What each unbillable_calls.reason means, as the billing team reads it. */
export const UNBILLABLE_REASONS: Record<string, string> = {
  not_e164: 'not a dialable public number',
  no_deck_prefix: 'no rate deck prefix',
};

export interface UnbillableLine {
  domain: string;
  reason: string;
  reasonLabel: string;
  calls: string;
  talkMinutes: string;
}

export interface BillingSummaryView {
  reseller: string;
  month: string;
  monthLabel: string;
  /** Every domain (the plain-text part and the CSV list them all). */
  rows: BillingLine[];
  /**
   * The domains the HTML part lists: those that need attention first (off, not reconciled), then
   * the largest charges, at most BILLING_HTML_ROWS, so the message stays under Gmail's 102 KB clip
   * for a reseller with a thousand customers. `moreRows` says how many the CSV has besides.
   */
  htmlRows: BillingLine[];
  moreRows: number;
  /** True when every domain left out of the HTML part reconciles (off ones are always listed first). */
  moreRowsReconciled: boolean;
  /** One line per currency: amounts in different currencies are never added together. */
  totals: { currency: string; amount: string; raw: string }[];
  counts: { domains: string; calls: string; billableMinutes: string; ok: number; off: number; notReconciled: number };
  /**
   * Answered outbound calls no deck row priced (billed nothing), per domain and reason: revenue to
   * recover by fixing the deck. `any` is false when there are none.
   */
  unbillable: { any: boolean; calls: string; talkMinutes: string; rows: UnbillableLine[]; htmlRows: UnbillableLine[]; moreRows: number };
  generatedAt: string;
}

export interface BillingViewOptions {
  resellerName: string;
  generatedAt: string;
  /** Per domain: display name, plan currency and decimals (used when the month has no rows). */
  customer: (domain: string) => { name: string; currency: string; decimals: number };
  /** The month's unbillable calls per domain and reason (none when left out). */
  unbillable?: readonly UnbillableRow[];
}

function statusOf(r: ReconciliationRow | undefined): ReconcileStatus {
  if (!r) return 'not reconciled';
  return r.status === 'ok' ? 'ok' : r.status === 'off' ? 'off' : 'not reconciled';
}

/** Pure: warehouse rows + reconciliation rows -> the billing report's figures. */
/** Domains listed in the billing summary's HTML part (all of them are in its text part and CSV). */
export const BILLING_HTML_ROWS = 60;

export function buildBillingSummaryView(
  month: string,
  rows: readonly BillingSummaryRow[],
  reconciliations: readonly ReconciliationRow[],
  opts: BillingViewOptions,
): BillingSummaryView {
  const recon = new Map(reconciliations.map((r) => [r.domain, r]));
  const sums = new Map<string, { value: bigint; decimals: number }>();
  let calls = 0n;
  let billable = 0n;
  const counts = { ok: 0, off: 0, notReconciled: 0 };
  const lines = rows.map((r): BillingLine => {
    const c = opts.customer(r.domain);
    const currency = r.currency || c.currency;
    const prev = sums.get(currency) ?? { value: 0n, decimals: c.decimals };
    sums.set(currency, { value: prev.value + parseDecimal(r.charge, MONEY_SCALE), decimals: Math.max(prev.decimals, c.decimals) });
    calls += BigInt(r.calls);
    billable += BigInt(r.billable_s);
    const rec = recon.get(r.domain);
    const status = statusOf(rec);
    if (status === 'ok') counts.ok++;
    else if (status === 'off') counts.off++;
    else counts.notReconciled++;
    return {
      domain: r.domain,
      customer: c.name === r.domain ? '' : c.name,
      timeZone: r.time_zone,
      calls: formatInt(r.calls),
      billableMinutes: formatMinutes(r.billable_s),
      charge: formatMoney(r.charge, currency, c.decimals),
      status,
      statusClass: status === 'ok' ? 'ok' : status === 'off' ? 'off' : 'none',
      detail: rec?.detail ?? '',
    };
  });
  const totals = [...sums.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, s]) => {
      const raw = formatScaled(s.value, MONEY_SCALE);
      return { currency, amount: formatMoney(raw, currency, s.decimals), raw };
    });
  const attention = (l: BillingLine) => (l.status === 'ok' ? 1 : 0);
  const scaledCharge = new Map(rows.map((r) => [r.domain, parseDecimal(r.charge, MONEY_SCALE)]));
  const htmlRows = [...lines]
    .sort((a, b) => {
      const byAttention = attention(a) - attention(b);
      if (byAttention !== 0) return byAttention;
      const ca = scaledCharge.get(a.domain) ?? 0n;
      const cb = scaledCharge.get(b.domain) ?? 0n;
      return ca === cb ? a.domain.localeCompare(b.domain) : cb > ca ? 1 : -1;
    })
    .slice(0, BILLING_HTML_ROWS);
  const unbillable = opts.unbillable ?? [];
  const unbillableLines = unbillable.map((u): UnbillableLine => ({
    domain: u.domain,
    reason: u.reason,
    reasonLabel: UNBILLABLE_REASONS[u.reason] ?? u.reason,
    calls: formatInt(u.calls),
    talkMinutes: formatMinutes(u.talk_s),
  }));
  return {
    reseller: opts.resellerName,
    month,
    monthLabel: localMonthPeriod(month, 'UTC').label,
    rows: lines,
    htmlRows,
    moreRows: lines.length - htmlRows.length,
    moreRowsReconciled: lines.length - counts.ok <= htmlRows.length,
    totals,
    counts: { domains: formatInt(rows.length), calls: formatInt(calls), billableMinutes: formatMinutes(billable), ...counts },
    unbillable: {
      any: unbillable.length > 0,
      calls: formatInt(unbillable.reduce((n, u) => n + BigInt(u.calls), 0n)),
      talkMinutes: formatMinutes(unbillable.reduce((n, u) => n + BigInt(u.talk_s), 0n)),
      rows: unbillableLines,
      // Bounded like the domain list, so the HTML part stays under Gmail's clip.
      htmlRows: unbillableLines.slice(0, BILLING_HTML_ROWS),
      moreRows: Math.max(unbillableLines.length - BILLING_HTML_ROWS, 0),
    },
    generatedAt: opts.generatedAt,
  };
}

export const BILLING_CSV_HEADER = [
  'month',
  'domain',
  'customer',
  'time_zone',
  'calls',
  'answered',
  'billable_seconds',
  'included_seconds_used',
  'charge',
  'currency',
  'reconciliation',
  'detail',
] as const;

/** One line per domain with exact amounts (DECIMAL text as stored). */
export function buildBillingCsv(
  month: string,
  rows: readonly BillingSummaryRow[],
  reconciliations: readonly ReconciliationRow[],
  customer: BillingViewOptions['customer'],
): string {
  const recon = new Map(reconciliations.map((r) => [r.domain, r]));
  return toCsv(
    BILLING_CSV_HEADER,
    rows.map((r) => {
      const c = customer(r.domain);
      const rec = recon.get(r.domain);
      return [
        month,
        r.domain,
        c.name,
        r.time_zone,
        csvNumber(r.calls),
        csvNumber(r.answered),
        csvNumber(r.billable_s),
        csvNumber(r.included_s_used),
        csvNumber(formatScaled(parseDecimal(r.charge, MONEY_SCALE), MONEY_SCALE)),
        r.currency || c.currency,
        statusOf(rec),
        rec?.detail ?? '',
      ];
    }),
  );
}
