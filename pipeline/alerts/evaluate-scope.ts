/**
 * Which lake rows an evaluation reads. The new calls (live: rows ingested after the cursor;
 * backtest: calls started in the range) decide the touched hours, per domain and by the calls'
 * own start times, so a late page from last week is judged in last week's hours. Then only the
 * context those hours need is read, bounded: the four hours before each (calls still in progress),
 * the same hour in each baseline week, and the domain's international calls over the
 * new-country history. The view `cdrs` shows those rows, lake-shaped, to the rating.
 *
 * Live, the lake is read file by file: the new rows can only be in files whose stamp (size,
 * mtime, inode) differs from the one the previous pass listed, and the context only in the
 * touched domains' partitions of the months it spans. A tick that rewrote a few partitions
 * opens those and their domains' other months, not the whole lake.
 */
import { sqlString, type Db } from '../db/duckdb.ts';
import { COMPACTED_PREFIX, encodePartitionValue } from '../lake/index.ts';
import { lakeCdrsSliceSource, type LakeFileStamp } from '../transform/index.ts';
import type { AlertMode } from './finding.ts';

/** Calls that started this many hours before a touched hour can still be in progress in it (concurrency). */
export const IN_PROGRESS_HOURS = 4;

export interface ScopeLimits {
  /** Baseline weeks the spend-velocity rule looks back (the largest of any domain). */
  baselineWeeks: number;
  /** Days of history the new-country rule looks back (the largest of any domain). */
  historyDays: number;
  /** Live without a cursor: calls started within this many hours of now. */
  initialLookbackHours: number;
  now: Date;
}

/**
 * What a scope reads: a FROM item over the whole lake (a backtest; or a lake with files outside
 * the month=/domain= layout, whose partitions cannot be told from the path), or (live) every lake
 * file with its stamp, listed before reading, to open only those that matter.
 */
export type ScopeLake = { source: string } | { files: readonly LakeFileStamp[] };

export interface Scope {
  /** Greatest ingested_at of the new rows (live), or null when there were none. */
  cursor: Date | null;
  /** New rows (live) or calls in the range (backtest). */
  callsEvaluated: number;
  /** Live: the domains of the new rows, sorted (the only domains `cdrs` holds); backtest: undefined. */
  domains?: string[];
}

function toDate(v: unknown): Date | null {
  if (v === null || v === undefined) return null;
  const ms = Number(v);
  return Number.isFinite(ms) ? new Date(ms) : null;
}

/**
 * Makes `cdrs` (the new rows and their context) in `db` from `source`, a FROM item over the lake,
 * and, live, `alert_touched (domain, hour_start)`; a backtest touches its range once the calls are
 * rated (touchBacktestRange). Billing's macros must already be loaded.
 */
export async function loadScope(
  db: Db,
  lake: ScopeLake,
  mode: AlertMode,
  limits: ScopeLimits,
  step: (what: string, extra?: Record<string, unknown>) => void = () => undefined,
): Promise<Scope> {
  const files = 'files' in lake ? lake.files : undefined;
  const whole = 'source' in lake ? lake.source : undefined;
  const slice = (chosen: readonly LakeFileStamp[]) => lakeCdrsSliceSource(chosen.map((f) => f.path));
  // Literals, not parameters: a view keeps its text.
  const ts = (d: Date) => `${sqlString(d.toISOString())}::TIMESTAMPTZ`;
  const inList = (values: string[]) => (values.length > 0 ? values.map(sqlString).join(', ') : 'NULL');
  // `raw` holds only the field of the API record the rating needs for a rule's columns, from the
  // lake's typed column that holds it (the lake writer has always written it): the whole record is
  // most of a lake file's bytes. The caller's name is left out: no rule column comes from it, and
  // each column read costs a pass a column chunk per file (about 5% of the context read each).
  const columns = `c.domain, c.id, c.start_time, c.answer_time, c.end_time, c.duration_s, c.talk_s, c.direction, c.orig_user,
            c.term_user, c.caller_number, c.dialed_number, c.ingested_at, c.month,
            json_object('call-disconnect-reason-text', c.disconnect_reason) AS raw`;
  const intlOutbound = `c.direction = 'outbound' AND number_class(to_e164(c.dialed_number)) IN ('international', 'premium')`;
  if (mode.kind === 'backtest') {
    if (!whole) throw new Error('alerts: a backtest reads the whole lake; pass its source');
    const source = whole;
    // Every hour of the range is touched: read the range and its context as two plain time ranges.
    // Extra rows outside the needed hours change no finding (rules bound their own context).
    // A view, not a copy: the rating's calls model is the one pass over the lake.
    const contextFrom = new Date(mode.from.getTime() - Math.max(IN_PROGRESS_HOURS, limits.baselineWeeks * 168) * 3_600_000);
    const historyFrom = new Date(Math.floor(mode.from.getTime() / 86_400_000) * 86_400_000 - limits.historyDays * 86_400_000);
    await db.run(
      `CREATE OR REPLACE VIEW cdrs AS
       SELECT ${columns} FROM ${source} AS c
       WHERE c.start_time < ${ts(mode.to)}
         AND (c.start_time >= ${ts(contextFrom)} OR (c.start_time >= ${ts(historyFrom)} AND ${intlOutbound}))`,
    );
    // The range's own calls (and the hours they touch) are counted once rated: touchBacktestRange.
    return { cursor: null, callsEvaluated: -1 };
  }
  const lookbackFrom = new Date(limits.now.getTime() - limits.initialLookbackHours * 3_600_000);
  const where =
    mode.since !== null
      ? `ingested_at > ${sqlString(mode.since.toISOString())}::TIMESTAMPTZ`
      : `start_time >= ${sqlString(lookbackFrom.toISOString())}::TIMESTAMPTZ`;
  const fresh = files ? freshFiles(files, mode, lookbackFrom) : undefined;
  const freshSource = fresh ? slice(fresh) : whole;
  if (!freshSource) return { cursor: mode.since, callsEvaluated: 0 };
  await db.run(`CREATE OR REPLACE TEMP TABLE fresh AS SELECT domain, start_time, ingested_at FROM ${freshSource} WHERE ${where}`);
  const summary = await db.one<{ n: string | number; cursor: string | number | null }>(
    `SELECT count(*) AS n, epoch_ms(max(ingested_at)) AS cursor FROM fresh`,
  );
  const callsEvaluated = Number(summary?.n ?? 0);
  step('new rows read', { files: fresh?.length, rows: callsEvaluated });
  const cursor = toDate(summary?.cursor) ?? mode.since;
  // Files rewritten without a row newer than the cursor: nothing to judge, and no context to read.
  if (callsEvaluated === 0) return { cursor, callsEvaluated };
  await db.run(
    `CREATE OR REPLACE TABLE alert_touched AS
     SELECT DISTINCT domain, date_trunc('hour', start_time) AS hour_start FROM fresh WHERE start_time IS NOT NULL AND domain IS NOT NULL`,
  );
  const offsets = [...Array(IN_PROGRESS_HOURS + 1).keys(), ...Array.from({ length: limits.baselineWeeks }, (_, k) => (k + 1) * 168)];
  await db.run(
    `CREATE OR REPLACE TABLE needed_hours AS
     SELECT DISTINCT t.domain, t.hour_start - to_hours(o.h) AS hour_start
     FROM alert_touched AS t CROSS JOIN (SELECT unnest($1::INTEGER[]) AS h) AS o`,
    [JSON.stringify(offsets)],
  );
  await db.run(
    `CREATE OR REPLACE TABLE history_ranges AS
     SELECT domain, min(date_trunc('day', hour_start)) - to_days($1::INTEGER) AS from_t, max(date_trunc('day', hour_start)) + INTERVAL 1 DAY AS to_t
     FROM alert_touched GROUP BY domain`,
    [limits.historyDays],
  );
  const months = await db.all<{ m: string }>(
    `SELECT DISTINCT strftime(hour_start, '%Y-%m') AS m FROM needed_hours
     UNION SELECT DISTINCT strftime(d, '%Y-%m') FROM (
       SELECT unnest(generate_series(date_trunc('month', from_t), to_t, INTERVAL 1 MONTH)) AS d FROM history_ranges)`,
  );
  const domains = (await db.all<{ domain: string }>(`SELECT DISTINCT domain FROM alert_touched ORDER BY domain`)).map((d) => d.domain);
  const context = files
    ? contextFiles(
        files,
        months.map((m) => m.m),
        domains,
      )
    : undefined;
  const contextSource = context ? slice(context) : whole;
  step('context hours chosen', { domains: domains.length, months: months.length, files: context?.length });
  if (!contextSource) throw new Error('alerts: the lake partitions of the new calls vanished while reading them; run the pass again');
  // The month and domain lists are literals so DuckDB prunes hive partitions before opening files.
  // A table: the rating reads its input more than once, and a tick's context is small.
  // The history rows are first narrowed by the cheap tests (outbound, in range) and their number
  // cleaned once, in a materialized step: written inline, number_class(to_e164(...)) expands into
  // the same regular expressions repeated for every branch, on every row of the partitions.
  await db.run(
    `CREATE OR REPLACE TABLE cdrs AS
     WITH candidates AS MATERIALIZED (
       SELECT ${columns}, n.domain IS NOT NULL AS needed
       FROM ${contextSource} AS c
       LEFT JOIN needed_hours AS n ON n.domain = c.domain AND n.hour_start = date_trunc('hour', c.start_time)
       LEFT JOIN history_ranges AS h ON h.domain = c.domain
       WHERE c.month IN (${inList(months.map((m) => m.m))})
         AND c.domain IN (${inList(domains)})
         AND (n.domain IS NOT NULL OR (c.start_time >= h.from_t AND c.start_time < h.to_t AND c.direction = 'outbound'))
     ),
     cleaned AS MATERIALIZED (
       SELECT *, CASE WHEN NOT needed THEN dial_digits(dialed_number) END AS dialed_digits FROM candidates
     ),
     numbered AS MATERIALIZED (
       SELECT *, CASE WHEN NOT needed THEN e164_from_digits(dialed_digits) END AS dialed_e164 FROM cleaned
     )
     SELECT * EXCLUDE (needed, dialed_digits, dialed_e164) FROM numbered
     WHERE needed OR number_class(dialed_e164) IN ('international', 'premium')`,
  );
  return { cursor, callsEvaluated, domains };
}

/**
 * The files that can hold rows newer than the cursor: those whose stamp differs from the one the
 * previous pass listed (all, when it listed none). Without a cursor: the months the lookback spans.
 */
export function freshFiles(files: readonly LakeFileStamp[], mode: AlertMode & { kind: 'live' }, lookbackFrom: Date): LakeFileStamp[] {
  if (mode.since === null) {
    const first = lookbackFrom.toISOString().slice(0, 7);
    return files.filter((f) => f.utcMonth >= first);
  }
  const seen = mode.seen;
  return seen ? files.filter((f) => seen.get(f.file) !== f.stamp) : [...files];
}

/**
 * The files holding the context of these domains in these months: each domain's own partitions,
 * and every compacted partition of those months (they mix domains; the counting rule needs them
 * all, and the rows are then narrowed to the domains by value).
 */
export function contextFiles(files: readonly LakeFileStamp[], months: readonly string[], domains: readonly string[]): LakeFileStamp[] {
  const inMonths = new Set(months);
  const segments = new Set<string>();
  for (const d of domains) {
    try {
      segments.add(encodePartitionValue(d));
    } catch {
      // A value no partition can have ('', '.', '..') has no files of its own.
    }
  }
  return files.filter((f) => inMonths.has(f.utcMonth) && (segments.has(f.domainSegment) || f.domainSegment.startsWith(COMPACTED_PREFIX)));
}

/**
 * Backtest: after the rating, the calls of `[from, to)` (every leg, as the `calls` model holds
 * them) are the new calls, and their hours the touched ones. Returns how many there are.
 */
export async function touchBacktestRange(db: Db, from: Date, to: Date): Promise<number> {
  await db.run(
    `CREATE OR REPLACE TABLE alert_touched AS
     SELECT DISTINCT domain, date_trunc('hour', start_time) AS hour_start FROM calls
     WHERE start_time >= $1::TIMESTAMPTZ AND start_time < $2::TIMESTAMPTZ`,
    [from.toISOString(), to.toISOString()],
  );
  const n = await db.one<{ n: string | number }>(
    `SELECT count(*) AS n FROM calls WHERE start_time >= $1::TIMESTAMPTZ AND start_time < $2::TIMESTAMPTZ`,
    [from.toISOString(), to.toISOString()],
  );
  return Number(n?.n ?? 0);
}
