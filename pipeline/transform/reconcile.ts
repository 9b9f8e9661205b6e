/**
 * `cdrpipe reconcile --month YYYY-MM`: per domain, for the domain's own local month, the lake
 * against the API's /cdrs/count, plus duplicates, rejects, open anomalies and billed totals.
 * Every figure is defined in docs/reconcile.md.
 *
 * Like with like: the lake window is half-open [local 1st 00:00, next local 1st 00:00) on
 * start_time. Servers differ on whether datetime-end is inclusive (the simulator's is: `<=`), so
 * `halfOpenCount` removes the records that start exactly at `end` when, and only when, the
 * server counted them (see there).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { Db, sqlString, withDb } from '../db/duckdb.ts';
import { customerFor } from '../config/index.ts';
import { COMPLETENESS_SQL, withState } from '../state/index.ts';
import {
  DamagedLakeError,
  damagedLakeErrorOr,
  lakeFiles,
  setAsideDamagedLakeFiles,
  cdrsDir,
  DOMAIN_NAME_COLUMN,
  partitionDir,
  rejectsDir,
  reportsDir,
  warehousePath,
  decodePartitionValue,
} from '../lake/index.ts';
import type { CdrCount, CdrSource, TimeWindow } from '../source/index.ts';
import { addMonths, isMonth, type Month } from '../util/month.ts';
import { UsageError } from '../util/errors.ts';
import { writeFileAtomic } from '../util/atomic-file.ts';
import { isKnownZone } from '../util/zone-time.ts';
import { numericCell, toCsv, type CsvValue } from '../util/csv.ts';
import type { StageContext } from '../config/index.ts';

export interface ReconcileOptions extends StageContext {
  source: CdrSource;
  /** The customers' local month, YYYY-MM. */
  month: Month;
  /** Only these domains; default every domain the API lists plus any the lake holds for the month. */
  domains?: string[];
}

export interface ClassTotal {
  call_class: string;
  calls: number;
  billable_s: number;
  charge: string;
}

/** One domain's reconciliation. Counts and seconds are whole numbers; money is decimal text. */
export interface ReconcileRow {
  month: Month;
  domain: string;
  timeZone: string;
  /** Local midnight of the 1st, as a UTC instant (ISO). */
  windowStart: string;
  /** Local midnight of the next 1st (exclusive); for the month in progress, the domain's ingest watermark (or now). */
  windowEnd: string;
  /** The month has not ended yet: figures are month to date, up to windowEnd. */
  monthToDate: boolean;
  apiTotal: number;
  apiSeconds: number;
  /** Distinct CDR ids in the lake for the window. */
  lakeTotal: number;
  /** Sum of duration_s over those CDRs (latest version of each). */
  lakeSeconds: number;
  /** Lake rows for the window, duplicates included. */
  lakeRows: number;
  /** Ids present more than once in the lake for the window. */
  duplicateIds: number;
  /** Distinct rejected records whose fetch window overlaps this month. */
  rejects: number;
  /** Unresolved completeness anomalies whose window overlaps this month. */
  openAnomalies: number;
  /** From the warehouse (as of the last transform); null when there is no warehouse or no calls. */
  billedCharge: string | null;
  billedS: number | null;
  currency: string | null;
  byClass: ClassTotal[];
  status: 'ok' | 'off';
  /** Why it is off (or notes when ok), in words. */
  detail: string;
}

export interface ReconcileResult {
  month: Month;
  checkedAt: string;
  rows: ReconcileRow[];
  /** Domains that do not reconcile, with the reason. */
  off: { domain: string; detail: string }[];
  /** Number of domains checked. */
  domains: number;
  ok: boolean;
  csvPath: string;
  /** API requests made (the domain list, two counts per domain, more when a call starts exactly at a month end). */
  requests: number;
}

/** Decides ok/off from the figures: counts and seconds must match and no id may repeat. */
export function judge(
  r: Pick<ReconcileRow, 'apiTotal' | 'apiSeconds' | 'lakeTotal' | 'lakeSeconds' | 'duplicateIds' | 'rejects' | 'openAnomalies'> & {
    listedByApi: boolean;
  },
): {
  status: 'ok' | 'off';
  detail: string;
} {
  const off: string[] = [];
  const notes: string[] = [];
  if (!r.listedByApi) off.push('domain is in the lake but the API does not list it');
  if (r.lakeTotal !== r.apiTotal) {
    const d = r.apiTotal - r.lakeTotal;
    off.push(
      `lake has ${r.lakeTotal} CDRs, API ${r.apiTotal} (${d > 0 ? `${d} missing from the lake` : `${-d} more in the lake than the API`})`,
    );
  }
  if (r.lakeSeconds !== r.apiSeconds)
    off.push(
      `lake seconds ${r.lakeSeconds} vs API ${r.apiSeconds} (${r.apiSeconds - r.lakeSeconds > 0 ? '+' : ''}${r.apiSeconds - r.lakeSeconds})`,
    );
  if (r.duplicateIds > 0) off.push(`${r.duplicateIds} CDR id(s) stored more than once`);
  if (r.rejects > 0) (off.length ? off : notes).push(`${r.rejects} rejected record(s) in the month's windows`);
  if (r.openAnomalies > 0) (off.length ? off : notes).push(`${r.openAnomalies} open anomal${r.openAnomalies === 1 ? 'y' : 'ies'}`);
  return off.length > 0 ? { status: 'off', detail: off.join('; ') } : { status: 'ok', detail: notes.join('; ') };
}

function zoneOk(tz: string | undefined): tz is string {
  return tz !== undefined && tz !== '' && isKnownZone(tz);
}

/** Local month bounds as UTC instants, computed by DuckDB ICU exactly as the models compute local_month. */
export async function localMonthBounds(db: Db, month: Month, timeZone: string): Promise<{ start: Date; end: Date }> {
  const next = addMonths(month, 1);
  const row = await db.one<{ s: string; e: string }>(
    `SELECT strftime((CAST($1 AS TIMESTAMP) AT TIME ZONE $3) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS s,
            strftime((CAST($2 AS TIMESTAMP) AT TIME ZONE $3) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS e`,
    [`${month}-01 00:00:00`, `${next}-01 00:00:00`, timeZone],
  );
  return { start: new Date(row!.s), end: new Date(row!.e) };
}

function parquetFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.parquet'))
    .map((f) => join(dir, f));
}

/** The UTC months a customer-local month can touch. */
const lakeMonths = (month: Month): Month[] => [addMonths(month, -1), month, addMonths(month, 1)];

/** Domains that have partitions in the UTC months a local month can touch. */
async function lakeDomainsFor(dataDir: string, month: Month): Promise<string[]> {
  const found = new Set<string>();
  const shortNamed: string[] = [];
  for (const m of lakeMonths(month)) {
    const dir = join(cdrsDir(dataDir), `month=${m}`);
    if (!existsSync(dir)) continue;
    for (const e of readdirSync(dir)) {
      if (!e.startsWith('domain=')) continue;
      const name = decodePartitionValue(e.slice('domain='.length));
      if (name !== undefined) found.add(name);
      else shortNamed.push(...parquetFiles(join(dir, e)));
    }
  }
  // A short partition name (lake/partition-path.ts) does not spell the domain: its files do.
  if (shortNamed.length > 0) {
    await withDb(':memory:', async (db) => {
      const rows = await db.all<{ d: string }>(
        `SELECT DISTINCT ${DOMAIN_NAME_COLUMN} AS d FROM read_parquet([${shortNamed.map(sqlString).join(', ')}], union_by_name = true) WHERE ${DOMAIN_NAME_COLUMN} IS NOT NULL`,
      );
      for (const r of rows) found.add(r.d);
    });
  }
  return [...found];
}

async function lakeFigures(db: Db, dataDir: string, domain: string, month: Month, start: Date, end: Date, at: Date) {
  const files = lakeMonths(month).flatMap((m) => parquetFiles(partitionDir(dataDir, m, domain)));
  if (files.length === 0) return { lakeRows: 0, lakeTotal: 0, lakeSeconds: 0, duplicateIds: 0 };
  try {
    return await lakeFiguresOf(db, files, start, end);
  } catch (err) {
    // A footer only DuckDB can find fault with: find the file and set it aside too.
    throw await damagedLakeErrorOr(err, dataDir, at, files);
  }
}

async function lakeFiguresOf(db: Db, files: readonly string[], start: Date, end: Date) {
  const list = `[${files.map(sqlString).join(', ')}]`;
  const row = await db.one<{ rows: number; ids: number; secs: string | null; dups: number }>(
    `WITH w AS (
       SELECT id, duration_s, ingested_at FROM read_parquet(${list}, union_by_name = true)
       WHERE start_time >= $1::TIMESTAMPTZ AND start_time < $2::TIMESTAMPTZ
     ), latest AS (
       SELECT * FROM w QUALIFY row_number() OVER (PARTITION BY id ORDER BY ingested_at DESC NULLS LAST) = 1
     )
     SELECT (SELECT count(*) FROM w)::INTEGER AS rows,
            (SELECT count(*) FROM latest)::INTEGER AS ids,
            (SELECT coalesce(sum(duration_s), 0) FROM latest)::VARCHAR AS secs,
            (SELECT count(*) FROM (SELECT id FROM w GROUP BY id HAVING count(*) > 1))::INTEGER AS dups`,
    [start.toISOString(), end.toISOString()],
  );
  return {
    lakeRows: Number(row?.rows ?? 0),
    lakeTotal: Number(row?.ids ?? 0),
    lakeSeconds: Number(row?.secs ?? 0),
    duplicateIds: Number(row?.dups ?? 0),
  };
}

async function rejectCount(db: Db, dataDir: string, domain: string, start: Date, end: Date): Promise<number> {
  const files = parquetFiles(rejectsDir(dataDir));
  if (files.length === 0) return 0;
  const row = await db.one<{ n: number }>(
    `SELECT count(DISTINCT raw_text)::INTEGER AS n FROM read_parquet(${`[${files.map(sqlString).join(', ')}]`}, union_by_name = true)
     WHERE domain = $1 AND window_start < $3::TIMESTAMPTZ AND window_end > $2::TIMESTAMPTZ`,
    [domain, start.toISOString(), end.toISOString()],
  );
  return Number(row?.n ?? 0);
}

async function billed(
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

/** The records starting in [start, end) as the client keeps them (it drops out-of-window records). */
async function recordsIn(
  source: CdrSource,
  domain: string,
  window: TimeWindow,
  signal?: AbortSignal,
): Promise<{ count: number; seconds: number }> {
  let count = 0;
  let seconds = 0;
  for await (const page of source.listCdrs(domain, window, { signal })) {
    for (const r of page.records) {
      count++;
      seconds += Number(r['call-total-duration-seconds'] ?? 0) || 0;
    }
  }
  return { count, seconds };
}

const SECOND = 1000;

/**
 * The API's count and seconds for the half-open window [start, end), whichever way the server
 * treats datetime-end. One extra count of [end, end+1s) usually shows that nothing starts at
 * `end`, and then count[start, end] is the answer on either kind of server. Otherwise the records
 * starting exactly at `end` are fetched, and count[end-1s, end] compared with the records in
 * [end-1s, end) tells whether the server included them; if it did, they are taken off.
 */
export async function halfOpenCount(
  source: CdrSource,
  domain: string,
  w: TimeWindow,
  signal?: AbortSignal,
): Promise<{ total: number; seconds: number; endInclusive?: boolean }> {
  const main: CdrCount = await source.countCdrs(domain, w, { signal });
  const after = { start: w.end, end: new Date(w.end.getTime() + SECOND) };
  const probe = await source.countCdrs(domain, after, { signal });
  if (probe.total === 0) return { total: main.total, seconds: main.seconds };
  const atEnd = await recordsIn(source, domain, after, signal);
  if (atEnd.count === 0) return { total: main.total, seconds: main.seconds };
  const before = { start: new Date(w.end.getTime() - SECOND), end: w.end };
  const [counted, kept] = await Promise.all([source.countCdrs(domain, before, { signal }), recordsIn(source, domain, before, signal)]);
  const endInclusive = counted.total === kept.count + atEnd.count;
  return endInclusive
    ? { total: main.total - atEnd.count, seconds: main.seconds - atEnd.seconds, endInclusive }
    : { total: main.total, seconds: main.seconds, endInclusive };
}

export async function runReconcile(opts: ReconcileOptions): Promise<ReconcileResult> {
  const { dataDir, config, source, month, logger, clock, signal } = opts;
  if (!isMonth(month)) throw new UsageError(`--month ${JSON.stringify(month)}: expected YYYY-MM, e.g. 2026-10`);
  const checkedAt = clock.now();
  // A damaged lake file of the months read is moved aside first; this run stops and says how to rebuild it.
  const monthFiles = (await Promise.all(lakeMonths(month).map((m) => lakeFiles(join(cdrsDir(dataDir), `month=${m}`))))).flat();
  const damaged = await setAsideDamagedLakeFiles(dataDir, checkedAt, { files: monthFiles });
  if (damaged.length > 0) throw new DamagedLakeError(damaged);
  const requestsBefore = source.stats().requests;
  const apiDomains = await source.listDomains({ signal });
  const apiByName = new Map(apiDomains.map((d) => [d.domain, d]));
  const names = opts.domains?.length
    ? [...new Set(opts.domains)]
    : [...new Set([...apiByName.keys(), ...(await lakeDomainsFor(dataDir, month))])];
  names.sort();

  const db = await Db.open(':memory:');
  const rows: ReconcileRow[] = [];
  try {
    const { anomalies, watermarks } = await withState(
      dataDir,
      async (s) => ({
        anomalies: await s.all<{ domain: string; window_start: string; window_end: string }>(
          `SELECT domain, window_start::VARCHAR AS window_start, window_end::VARCHAR AS window_end FROM anomalies WHERE resolved_at IS NULL AND kind IN (${COMPLETENESS_SQL})`,
        ),
        watermarks: new Map(
          (await s.all<{ domain: string; ms: string | number }>(`SELECT domain, epoch_ms(watermark) AS ms FROM watermarks`)).map((w) => [
            w.domain,
            new Date(Number(w.ms)),
          ]),
        ),
      }),
      { signal },
    );
    const billedBy = await billed(month, dataDir, names);
    const limit = pLimit(Math.max(1, config.ingest.concurrency));
    // DuckDB work stays serial on one connection; only the API counts run concurrently.
    const plans = await Promise.all(
      names.map(async (domain) => {
        const c = customerFor(config, domain);
        const api = apiByName.get(domain);
        const timeZone = zoneOk(c.timeZone) ? c.timeZone : zoneOk(api?.timeZone) ? api!.timeZone! : 'UTC';
        const full = await localMonthBounds(db, month, timeZone);
        // The month in progress is compared up to what ingest has made durable (the watermark),
        // or up to now when the domain has none; a month that has ended is compared in full.
        const now = checkedAt.getTime();
        const monthToDate = full.end.getTime() > now;
        let end = full.end;
        if (monthToDate) {
          const wm = watermarks.get(domain);
          end = new Date(
            Math.max(full.start.getTime(), Math.min(full.end.getTime(), wm && !Number.isNaN(wm.getTime()) ? wm.getTime() : now)),
          );
        }
        return { domain, timeZone, listed: api !== undefined, monthToDate, bounds: { start: full.start, end } };
      }),
    );
    const counts = await Promise.all(
      plans.map((p) =>
        limit(async () => {
          if (!p.listed || p.bounds.end.getTime() <= p.bounds.start.getTime()) return { total: 0, seconds: 0 };
          return halfOpenCount(source, p.domain, p.bounds, signal);
        }),
      ),
    );
    for (const [i, p] of plans.entries()) {
      signal?.throwIfAborted();
      const { start, end } = p.bounds;
      const lake = await lakeFigures(db, dataDir, p.domain, month, start, end, checkedAt);
      const rejects = await rejectCount(db, dataDir, p.domain, start, end);
      const openAnomalies = anomalies.filter(
        (a) => a.domain === p.domain && new Date(a.window_start) < end && new Date(a.window_end) > start,
      ).length;
      const api = counts[i]!;
      const b = billedBy.get(p.domain);
      const verdict = judge({ apiTotal: api.total, apiSeconds: api.seconds, ...lake, rejects, openAnomalies, listedByApi: p.listed });
      if (p.monthToDate) verdict.detail = [`month to date, up to ${end.toISOString()}`, verdict.detail].filter(Boolean).join('; ');
      rows.push({
        month,
        domain: p.domain,
        timeZone: p.timeZone,
        windowStart: start.toISOString(),
        windowEnd: end.toISOString(),
        monthToDate: p.monthToDate,
        apiTotal: api.total,
        apiSeconds: api.seconds,
        ...lake,
        rejects,
        openAnomalies,
        billedCharge: b?.charge ?? null,
        billedS: b?.billableS ?? null,
        currency: b?.currency ?? null,
        byClass: b?.byClass ?? [],
        ...verdict,
      });
    }
  } finally {
    db.close();
  }

  const csvPath = join(reportsDir(dataDir, month), 'reconciliation.csv');
  await writeReconcileCsv(csvPath, rows);
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
  const off = rows.filter((r) => r.status === 'off').map((r) => ({ domain: r.domain, detail: r.detail }));
  if (off.length > 0) logger.warn({ month, off }, 'reconciliation: some domains do not reconcile');
  else logger.info({ month, domains: rows.length }, 'reconciliation: every domain reconciles');
  return {
    month,
    checkedAt: checkedAt.toISOString(),
    rows,
    off,
    domains: rows.length,
    ok: off.length === 0,
    csvPath,
    requests: source.stats().requests - requestsBefore,
  };
}

export const RECONCILE_CSV_COLUMNS = [
  'month',
  'domain',
  'status',
  'time_zone',
  'window_start',
  'window_end',
  'month_to_date',
  'api_total',
  'lake_total',
  'api_seconds',
  'lake_seconds',
  'lake_rows',
  'duplicate_ids',
  'rejects',
  'open_anomalies',
  'billed_s',
  'billed_charge',
  'currency',
  'charge_by_class',
  'detail',
] as const;

function csvRows(rows: readonly ReconcileRow[]): CsvValue[][] {
  return rows.map((r) => [
    r.month,
    r.domain,
    r.status,
    r.timeZone,
    r.windowStart,
    r.windowEnd,
    r.monthToDate,
    r.apiTotal,
    r.lakeTotal,
    r.apiSeconds,
    r.lakeSeconds,
    r.lakeRows,
    r.duplicateIds,
    r.rejects,
    r.openAnomalies,
    r.billedS,
    r.billedCharge === null ? null : numericCell(r.billedCharge),
    r.currency,
    r.byClass.map((c) => `${c.call_class}=${c.charge}`).join(' '),
    r.detail,
  ]);
}

/** Writes the CSV so that no reader sees half of it (util/atomic-file.ts). */
export async function writeReconcileCsv(path: string, rows: readonly ReconcileRow[]): Promise<void> {
  await writeFileAtomic(path, toCsv(RECONCILE_CSV_COLUMNS, csvRows(rows)));
}

/** The terminal table. */
export function formatReconcileTable(result: ReconcileResult): string {
  const head = ['domain', 'status', 'api_cdrs', 'lake_cdrs', 'api_s', 'lake_s', 'dup_ids', 'rejects', 'anomalies', 'billed', 'detail'];
  const body = result.rows.map((r) => [
    r.domain,
    r.status === 'ok' ? 'ok' : 'OFF',
    String(r.apiTotal),
    String(r.lakeTotal),
    String(r.apiSeconds),
    String(r.lakeSeconds),
    String(r.duplicateIds),
    String(r.rejects),
    String(r.openAnomalies),
    r.billedCharge === null ? '-' : `${r.billedCharge} ${r.currency ?? ''}`.trim(),
    r.detail,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const numeric = new Set([2, 3, 4, 5, 6, 7, 8, 9]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const lines = [
    `Reconciliation ${result.month} (each domain's local month; lake vs API /cdrs/count)`,
    line(head),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...body.map(line),
  ];
  lines.push(
    result.ok
      ? `all ${result.domains} domain(s) reconcile`
      : `${result.off.length} of ${result.domains} domain(s) do NOT reconcile: ${result.off.map((o) => o.domain).join(', ')}`,
  );
  if (result.rows.some((r) => r.status !== 'ok' && r.lakeTotal < r.apiTotal)) {
    // The usual cause: an ingest that covered the UTC month only, while a local month reaches up to
    // 14 h either side of it.
    const [y, m] = result.month.split('-').map(Number) as [number, number];
    const from = new Date(Date.UTC(y, m - 1, 0)).toISOString().slice(0, 10);
    const to = new Date(Date.UTC(y, m, 2)).toISOString().slice(0, 10);
    lines.push(
      `CDRs are missing from the lake: ingest the whole local month of every time zone, e.g. \`cdrpipe ingest --from ${from} --to ${to}\`, then run reconcile again`,
    );
  }
  lines.push(`csv: ${result.csvPath}`);
  return lines.join('\n') + '\n';
}
