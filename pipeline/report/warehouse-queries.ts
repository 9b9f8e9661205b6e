/**
 * Reads one customer-month from warehouse.duckdb. Every query is filtered by domain (and month):
 * a report is built only from its own domain's rows. The SQL lives in ./sql/*.sql.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { listValue, type DuckDBValue } from '@duckdb/node-api';
import type { Db } from '../db/duckdb.ts';
import { addMonths } from '../util/month.ts';
import type { HeapGarbage } from '../util/heap-garbage.ts';
import { CallsCsvBuilder } from './calls-csv.ts';

export const QUERY_NAMES = [
  'domains',
  'usage-monthly',
  'charges-by-class',
  'usage-daily',
  'usage-hourly',
  'top-users',
  'top-numbers',
  'top-destinations',
  'call-quality',
  'billed-calls',
  'billing-summary',
  'unbillable-calls',
  'cost-carriers',
  'cost-margin-customers',
  'cost-negative-destinations',
  'cost-leakage',
] as const;
export type QueryName = (typeof QUERY_NAMES)[number];

const sqlCache = new Map<QueryName, string>();
/** The text of ./sql/<name>.sql. */
export function querySql(name: QueryName): string {
  let sql = sqlCache.get(name);
  if (sql === undefined) {
    sql = readFileSync(fileURLToPath(new URL(`./sql/${name}.sql`, import.meta.url)), 'utf8');
    sqlCache.set(name, sql);
  }
  return sql;
}

export interface DomainRow {
  domain: string;
  description: string | null;
  time_zone: string;
}

/** Totals of one customer-month; counts and seconds as decimal text (BIGINT), charge as DECIMAL text. */
export interface UsageMonthlyRow {
  local_month: string;
  time_zone: string;
  calls: string;
  answered: string;
  missed: string;
  inbound_calls: string;
  outbound_calls: string;
  internal_calls: string;
  inbound_s: string;
  outbound_s: string;
  internal_s: string;
  talk_s: string;
  billable_s: string;
  included_s_used: string;
  included_s_total: string;
  charge: string;
  currency: string;
}

export interface ClassRow {
  call_class: string;
  calls: string;
  billable_s: string;
  charge: string;
}
export interface DailyRow {
  local_date: string;
  calls: string;
  answered: string;
  missed: string;
  talk_s: string;
  charge: string;
}
export interface HourlyRow {
  local_hour: number;
  calls: string;
  answered: string;
}
export interface UserRow {
  user_id: string | null;
  name: string | null;
  calls: string;
  inbound_calls: string;
  outbound_calls: string;
  talk_s: string;
  billable_s: string;
  charge: string;
  total_rows: string;
}
export interface NumberRow {
  number: string | null;
  calls: string;
  inbound_calls: string;
  outbound_calls: string;
  talk_s: string;
  charge: string;
  total_rows: string;
}
export interface DestinationRow {
  destination: string | null;
  call_class: string | null;
  calls: string;
  talk_s: string;
  billable_s: string;
  charge: string;
  total_rows: string;
}
export interface QualityRow {
  calls: string;
  answered: string;
  missed: string;
  asr: string | null;
  acd_s: string | null;
  peak_concurrent: string | null;
}
export interface BilledCallRow {
  start_local: string;
  id: string;
  direction: string;
  caller_name: string | null;
  caller_number: string | null;
  dialed_number: string | null;
  did: string | null;
  remote_number: string | null;
  user_id: string | null;
  call_class: string | null;
  rate_description: string | null;
  talk_s: string;
  billable_s: string;
  charge: string;
  currency: string | null;
}
export interface BillingSummaryRow {
  domain: string;
  description: string | null;
  time_zone: string;
  calls: string;
  answered: string;
  billable_s: string;
  included_s_used: string;
  charge: string;
  currency: string | null;
}

/** Answered outbound calls no deck row priced, per domain and reason; counts and seconds as decimal text. */
export interface UnbillableRow {
  domain: string;
  /** not_e164 | no_deck_prefix (unbillable_calls.reason) */
  reason: string;
  calls: string;
  talk_s: string;
}

/** Everything a monthly usage report shows, straight from the warehouse. */
export interface CustomerMonthData {
  domain: string;
  month: string;
  current: UsageMonthlyRow | undefined;
  previous: UsageMonthlyRow | undefined;
  byClass: ClassRow[];
  daily: DailyRow[];
  hourly: HourlyRow[];
  users: UserRow[];
  numbers: NumberRow[];
  destinations: DestinationRow[];
  quality: QualityRow | undefined;
  /** The billed call legs (empty when the query was asked for `callsCsv` instead). */
  billedCalls: BilledCallRow[];
  /** The CSV attachment's text and its row count, when the query built it as the rows came (CustomerMonthsOptions.callsCsv). */
  callsCsv?: { text: string; rows: number };
}

/** How queryCustomerMonths reads the billed calls. */
export interface CustomerMonthsOptions {
  topN?: number;
  /**
   * When given, a domain's billed calls are not kept as rows: they become the CSV attachment's
   * text batch by batch as they stream from the warehouse (`callsCsv`), with the currency and
   * decimals this gives for the domain and its month's totals. A chunk of customers then holds
   * its attachments' text, not their rows (several times the size).
   */
  callsCsv?: (domain: string, current: UsageMonthlyRow | undefined) => { currency: string; decimals: number };
  /** Told about the rows streamed for `callsCsv` once they are garbage, so V8 collects them before they pile up. */
  garbage?: HeapGarbage;
}

/**
 * Heap a billed-call row leaves behind per byte of its CSV line: its row object and cell
 * strings, the converted values and the line's pieces (measured about 8x the line).
 */
const ROW_GARBAGE_PER_CSV_BYTE = 8;

/** How many rows the top-N tables keep: bounds the e-mail's size for the busiest customer. */
export const TOP_N = 10;

export async function queryDomains(db: Db): Promise<DomainRow[]> {
  return db.all<DomainRow & Record<string, unknown>>(querySql('domains'));
}

/** Runs every per-customer query for (domain, month); nothing from another domain is read. */
export async function queryCustomerMonth(db: Db, domain: string, month: string, topN = TOP_N): Promise<CustomerMonthData> {
  const data = (await queryCustomerMonths(db, [domain], month, { topN })).get(domain);
  if (!data) throw new Error(`no report data for ${JSON.stringify(domain)}`);
  return data;
}

/** A query's rows grouped by their `domain` column (which is dropped), in the order they came. */
function byDomain<T>(rows: Record<string, unknown>[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const { domain, ...row } of rows) {
    const key = String(domain);
    let list = out.get(key);
    if (!list) out.set(key, (list = []));
    list.push(row as T);
  }
  return out;
}

/**
 * Every per-customer query for `domains` in one month: each query runs once for all of them
 * (one statement per query and month, not one per query and domain, which is where a report's
 * time went), filtered to exactly these domains; each row is then handed to its own domain's
 * data only, so a report is still built from nothing but its own domain's rows.
 */
export async function queryCustomerMonths(
  db: Db,
  domains: readonly string[],
  month: string,
  opts: CustomerMonthsOptions = {},
): Promise<Map<string, CustomerMonthData>> {
  const topN = opts.topN ?? TOP_N;
  const list = listValue([...domains]);
  const p = { domains: list, month };
  const top = { ...p, limit: topN };
  const all = async <T>(name: QueryName, params: Record<string, DuckDBValue>) => byDomain<T>(await db.all(querySql(name), params));
  const monthly = await all<UsageMonthlyRow>('usage-monthly', { ...p, previous_month: addMonths(month, -1) });
  const byClass = await all<ClassRow>('charges-by-class', p);
  const daily = await all<DailyRow>('usage-daily', p);
  const hourly = await all<HourlyRow>('usage-hourly', p);
  const users = await all<UserRow>('top-users', top);
  const numbers = await all<NumberRow>('top-numbers', top);
  const destinations = await all<DestinationRow>('top-destinations', top);
  const quality = await all<QualityRow>('call-quality', p);
  const current = (domain: string) => monthly.get(domain)?.find((r) => r.local_month === month);
  let billedCalls = new Map<string, BilledCallRow[]>();
  const csvs = new Map<string, CallsCsvBuilder>();
  const csvOf = opts.callsCsv;
  if (csvOf) {
    for (const domain of domains) csvs.set(domain, new CallsCsvBuilder(csvOf(domain, current(domain))));
    await db.each(querySql('billed-calls'), p, (rows) => {
      let bytes = 0;
      for (const [domain, batch] of byDomain<BilledCallRow>(rows)) bytes += csvs.get(domain)?.add(batch) ?? 0;
      opts.garbage?.add(bytes * ROW_GARBAGE_PER_CSV_BYTE);
    });
  } else billedCalls = await all<BilledCallRow>('billed-calls', p);
  const out = new Map<string, CustomerMonthData>();
  for (const domain of domains) {
    const m = monthly.get(domain) ?? [];
    const csv = csvs.get(domain);
    out.set(domain, {
      domain,
      month,
      current: current(domain),
      previous: m.find((r) => r.local_month !== month),
      byClass: byClass.get(domain) ?? [],
      daily: daily.get(domain) ?? [],
      hourly: hourly.get(domain) ?? [],
      users: users.get(domain) ?? [],
      numbers: numbers.get(domain) ?? [],
      destinations: destinations.get(domain) ?? [],
      quality: quality.get(domain)?.[0],
      billedCalls: billedCalls.get(domain) ?? [],
      ...(csv ? { callsCsv: { text: csv.text(), rows: csv.rows } } : {}),
    });
  }
  return out;
}

/** Every domain's billed totals for the month (billing-team report). */
export async function queryBillingSummary(db: Db, month: string): Promise<BillingSummaryRow[]> {
  return (await db.all(querySql('billing-summary'), { month })) as unknown as BillingSummaryRow[];
}

/** The month's unbillable calls per domain and reason (billing-team report). */
export async function queryUnbillableCalls(db: Db, month: string): Promise<UnbillableRow[]> {
  try {
    return (await db.all(querySql('unbillable-calls'), { month })) as unknown as UnbillableRow[];
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/unbillable_calls does not exist/i.test(message)) {
      throw new Error(
        `the warehouse has no unbillable_calls model (built by an older version): run \`cdrpipe transform\`, then the report again`,
        { cause: err },
      );
    }
    throw err;
  }
}
