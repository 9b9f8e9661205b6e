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
import { prepareLakeForReading } from '../store/index.ts';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { Db } from '../db/duckdb.ts';
import { customerFor, duckdbSettings } from '../config/index.ts';
import { COMPLETENESS_SQL, withState } from '../state/index.ts';
import { DamagedLakeError, lakeFiles, setAsideDamagedLakeFiles, cdrsDir, reportsDir } from '../lake/index.ts';
import { isMonth } from '../util/month.ts';
import { UsageError } from '../util/errors.ts';
import { isKnownZone } from '../util/zone-time.ts';
import type { ReconcileOptions, ReconcileResult, ReconcileRow } from './reconcile-types.ts';
import { judge } from './reconcile-judge.ts';
import { lakeDomainsFor, lakeFigures, lakeMonths, localMonthBounds, rejectCount } from './reconcile-lake.ts';
import { billed } from './reconcile-billed.ts';
import { halfOpenCount } from './half-open-count.ts';
import { recordReconciliations } from './reconcile-record.ts';
import { writeReconcileCsv } from './reconcile-output.ts';

export type { ClassTotal, ReconcileOptions, ReconcileResult, ReconcileRow } from './reconcile-types.ts';
export { judge } from './reconcile-judge.ts';
export { localMonthBounds } from './reconcile-lake.ts';
export { halfOpenCount } from './half-open-count.ts';
export { RECONCILE_CSV_COLUMNS, formatReconcileTable, writeReconcileCsv } from './reconcile-output.ts';

function zoneOk(tz: string | undefined): tz is string {
  return tz !== undefined && tz !== '' && isKnownZone(tz);
}

/** Reconciles every domain (or the chosen ones) for the month, writes the CSV and records the result. */
export async function runReconcile(opts: ReconcileOptions): Promise<ReconcileResult> {
  const { dataDir, config, source, month, logger, clock, signal } = opts;
  if (!isMonth(month)) throw new UsageError(`--month ${JSON.stringify(month)}: expected YYYY-MM, e.g. 2026-10`);
  const checkedAt = clock.now();
  // With the lake in a bucket, the local copy of the months read is brought up to date first.
  await prepareLakeForReading(opts, { months: lakeMonths(month) });
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

  const db = await Db.open(':memory:', { settings: duckdbSettings(config, dataDir) });
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
  await recordReconciliations(dataDir, rows, checkedAt, signal);
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
