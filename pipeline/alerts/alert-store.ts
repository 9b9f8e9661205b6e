/**
 * Alerts in state.duckdb: findings merged into alerts by identity, delivery rows queued for new and
 * escalated alerts, and the live evaluation's cursor, all written in one transaction.
 */
import type { Db } from '../db/duckdb.ts';
import { withState, statePath } from '../state/index.ts';
import { existsSync } from 'node:fs';
import { formatScaled, MONEY_SCALE } from '../util/money.ts';
import type { AlertEvaluation, AlertFinding, AlertSeverity } from './finding.ts';
import { alertIdOf, measureOf, mergeFinding, normalizeAmount, type MergeAction } from './alert-identity.ts';

/** An alert as stored and listed: its id and lifecycle beside what the rule found. */
export interface StoredAlert extends AlertFinding {
  id: string;
  raisedAt: Date;
  updatedAt: Date;
  level: number;
  ackedAt: Date | null;
}

/** What recording one evaluation did. */
export interface RecordSummary {
  findings: number;
  new: number;
  escalated: number;
  updated: number;
  unchanged: number;
  /** Deliveries queued (alert, level, channel). */
  queued: number;
  /** The cursor after this evaluation (unchanged when it read no rows). */
  cursor: Date | null;
}

/** The channels (`email:<address>`, `webhook`) an alert of this domain and severity goes to; [] sends nothing. */
export type ChannelPicker = (alert: { domain: string; severity: AlertSeverity }) => string[];

const LIVE_CURSOR = 'live';

/** The select list `toAlert` reads, for the `alerts` table under alias `t`. */
export const alertColumns = (t: string) => `${t}.alert_id AS id, ${t}.rule, ${t}.domain, ${t}.key, epoch_ms(${t}.window_start) AS ws,
  epoch_ms(${t}.window_end) AS we, ${t}.severity, ${t}.calls::DOUBLE AS calls, CAST(${t}.amount AS VARCHAR) AS amount, ${t}.estimated,
  ${t}.message, CAST(${t}.evidence AS VARCHAR) AS evidence, epoch_ms(${t}.raised_at) AS raised, epoch_ms(${t}.updated_at) AS updated,
  ${t}.level, epoch_ms(${t}.acked_at) AS acked`;

/** A row selected with `alertColumns` as an alert. */
export function toAlert(r: Record<string, unknown>): StoredAlert {
  return {
    id: String(r.id),
    rule: String(r.rule),
    domain: String(r.domain),
    key: String(r.key),
    windowStart: new Date(Number(r.ws)),
    windowEnd: new Date(Number(r.we)),
    severity: String(r.severity) as AlertSeverity,
    calls: Number(r.calls),
    amount: normalizeAmount(r.amount === null ? null : String(r.amount)),
    estimated: r.estimated === true,
    message: String(r.message),
    evidence: r.evidence ? (JSON.parse(String(r.evidence)) as Record<string, unknown>) : {},
    raisedAt: new Date(Number(r.raised)),
    updatedAt: new Date(Number(r.updated)),
    level: Number(r.level),
    ackedAt: r.acked === null || r.acked === undefined ? null : new Date(Number(r.acked)),
  };
}

/** Where live evaluation goes on from: the greatest ingested_at it has read, or null before the first run. */
export async function readAlertCursor(dataDir: string, signal?: AbortSignal): Promise<Date | null> {
  return withState(
    dataDir,
    async (db) => {
      const row = await db.one<{ ms: unknown }>(`SELECT epoch_ms(ingested_to) AS ms FROM alert_cursor WHERE name = $name`, {
        name: LIVE_CURSOR,
      });
      return row ? new Date(Number(row.ms)) : null;
    },
    { signal },
  );
}

/** Where the next live evaluation starts: the cursor, and the lake files the pass that set it listed. */
export interface AlertPosition {
  since: Date | null;
  /** Path under lake/cdrs → stamp; undefined when no pass recorded any (read every file). */
  seen: ReadonlyMap<string, string> | undefined;
}

/** The cursor and the recorded lake files, in one open of state.duckdb. */
export async function readAlertPosition(dataDir: string, signal?: AbortSignal): Promise<AlertPosition> {
  return withState(
    dataDir,
    async (db) => {
      const row = await db.one<{ ms: unknown }>(`SELECT epoch_ms(ingested_to) AS ms FROM alert_cursor WHERE name = $name`, {
        name: LIVE_CURSOR,
      });
      const files = await db.all<{ file: string; stamp: string }>(`SELECT file, stamp FROM alert_lake_files`);
      return {
        since: row ? new Date(Number(row.ms)) : null,
        seen: files.length > 0 ? new Map(files.map((f) => [f.file, f.stamp])) : undefined,
      };
    },
    { signal },
  );
}

async function inTransaction<T>(db: Db, fn: () => Promise<T>): Promise<T> {
  await db.run('BEGIN TRANSACTION');
  try {
    const out = await fn();
    await db.run('COMMIT');
    return out;
  } catch (err) {
    await db.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * Records one live evaluation in a single transaction: every finding merged into its alert (see
 * mergeFinding), a delivery row queued per channel for each new or escalated alert, and the cursor
 * moved to the evaluation's, with the lake files it listed. A crash before the commit leaves all three as they were, so the next
 * run evaluates the same rows again and raises the same alerts (same ids), never half of them.
 */
export async function recordEvaluation(
  opts: { dataDir: string; now: Date; channels: ChannelPicker; signal?: AbortSignal },
  evaluation: AlertEvaluation,
): Promise<RecordSummary> {
  return withState(
    opts.dataDir,
    (db) =>
      inTransaction(db, async () => {
        const counts: Record<MergeAction, number> = { new: 0, escalated: 0, updated: 0, unchanged: 0 };
        let queued = 0;
        const now = opts.now.toISOString();
        for (const f of evaluation.findings) {
          const id = alertIdOf(f);
          const prev = await db.one<{ amount: string | null; calls: unknown; level: unknown; notified: string; acked: unknown }>(
            `SELECT CAST(amount AS VARCHAR) AS amount, calls::DOUBLE AS calls, level, CAST(notified_measure AS VARCHAR) AS notified, acked_at IS NOT NULL AS acked
             FROM alerts WHERE alert_id = $id`,
            { id },
          );
          const merged = mergeFinding(
            prev && {
              measure: measureOf({ amount: prev.amount, calls: Number(prev.calls) }),
              level: Number(prev.level),
              notifiedMeasure: measureOf({ amount: prev.notified, calls: 0 }),
              acked: prev.acked === true,
            },
            f,
          );
          counts[merged.action]++;
          if (merged.replace)
            await upsertAlert(db, id, f, merged.level, formatScaled(merged.notifiedMeasure, MONEY_SCALE), merged.reopen, now);
          if (merged.action === 'new' || merged.action === 'escalated') {
            for (const channel of opts.channels({ domain: f.domain, severity: f.severity })) {
              await db.run(
                `INSERT INTO alert_deliveries (alert_id, level, channel, status, attempts, queued_at, updated_at)
                 VALUES ($id, $level, $channel, 'queued', 0, $now::TIMESTAMPTZ, $now::TIMESTAMPTZ) ON CONFLICT DO NOTHING`,
                { id, level: merged.level, channel, now },
              );
              queued++;
            }
          }
        }
        const cursor = await advanceCursor(db, evaluation, now);
        if (evaluation.lakeFiles) await replaceLakeFiles(db, evaluation.lakeFiles);
        return { findings: evaluation.findings.length, ...counts, queued, cursor };
      }),
    { signal: opts.signal },
  );
}

async function upsertAlert(
  db: Db,
  id: string,
  f: AlertFinding,
  level: number,
  notified: string,
  reopen: boolean,
  now: string,
): Promise<void> {
  await db.run(
    `INSERT INTO alerts (alert_id, rule, domain, key, window_start, window_end, severity, calls, amount, estimated, message, evidence,
                         raised_at, updated_at, level, notified_measure)
     VALUES ($id, $rule, $domain, $key, $ws::TIMESTAMPTZ, $we::TIMESTAMPTZ, $severity, $calls, $amount::DECIMAL(18, 6), $estimated, $message,
             $evidence::JSON, $now::TIMESTAMPTZ, $now::TIMESTAMPTZ, $level, $notified::DECIMAL(18, 6))
     ON CONFLICT (alert_id) DO UPDATE SET severity = excluded.severity, calls = excluded.calls, amount = excluded.amount,
       estimated = excluded.estimated, message = excluded.message, evidence = excluded.evidence, updated_at = excluded.updated_at,
       level = excluded.level, notified_measure = excluded.notified_measure,
       acked_at = CASE WHEN $reopen THEN NULL ELSE alerts.acked_at END`,
    {
      id,
      rule: f.rule,
      domain: f.domain,
      key: f.key,
      ws: f.windowStart.toISOString(),
      we: f.windowEnd.toISOString(),
      severity: f.severity,
      calls: f.calls,
      amount: f.amount,
      estimated: f.estimated,
      message: f.message,
      evidence: JSON.stringify(f.evidence),
      now,
      level,
      notified,
      reopen,
    },
  );
}

async function advanceCursor(db: Db, evaluation: AlertEvaluation, now: string): Promise<Date | null> {
  if (evaluation.cursor) {
    // Never backwards: a cursor only moves on to rows not yet read.
    await db.run(
      `INSERT INTO alert_cursor (name, ingested_to, evaluated_at, calls) VALUES ($name, $to::TIMESTAMPTZ, $now::TIMESTAMPTZ, $calls)
       ON CONFLICT (name) DO UPDATE SET ingested_to = greatest(alert_cursor.ingested_to, excluded.ingested_to),
         evaluated_at = excluded.evaluated_at, calls = excluded.calls`,
      { name: LIVE_CURSOR, to: evaluation.cursor.toISOString(), now, calls: evaluation.callsEvaluated },
    );
  }
  const row = await db.one<{ ms: unknown }>(`SELECT epoch_ms(ingested_to) AS ms FROM alert_cursor WHERE name = $name`, {
    name: LIVE_CURSOR,
  });
  return row ? new Date(Number(row.ms)) : null;
}

async function replaceLakeFiles(db: Db, files: ReadonlyMap<string, string>): Promise<void> {
  await db.run(`DELETE FROM alert_lake_files`);
  if (files.size === 0) return;
  // One statement for the whole list: a lake has thousands of files.
  await db.run(
    `INSERT INTO alert_lake_files (file, stamp)
     SELECT unnest(from_json($1::JSON, '[{"file":"VARCHAR","stamp":"VARCHAR"}]'), recursive := true)`,
    [JSON.stringify([...files].map(([file, stamp]) => ({ file, stamp })))],
  );
}

async function hasAlertsTable(db: Db): Promise<boolean> {
  const row = await db.one<{ n: unknown }>(
    `SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'alerts' AND schema_name = 'main'`,
  );
  return Number(row?.n ?? 0) > 0;
}

/**
 * Alerts, newest first (raised last, then latest window). Read-only: works on a read-only data
 * directory, and on one where nothing has run yet (no alerts).
 */
export async function listAlerts(
  dataDir: string,
  opts: { open?: boolean; limit?: number } = {},
): Promise<{ alerts: StoredAlert[]; open: number }> {
  if (!existsSync(statePath(dataDir))) return { alerts: [], open: 0 };
  return withState(
    dataDir,
    async (db) => {
      // A state file from before alerts existed has no table (read-only opens apply no schema).
      if (!(await hasAlertsTable(db))) return { alerts: [], open: 0 };
      const rows = await db.all(
        `SELECT ${alertColumns('a')} FROM alerts a ${opts.open ? 'WHERE acked_at IS NULL' : ''}
         ORDER BY raised_at DESC, window_start DESC, alert_id ${opts.limit !== undefined ? `LIMIT ${Math.max(0, Math.floor(opts.limit))}` : ''}`,
      );
      const open = await db.one<{ n: unknown }>(`SELECT count(*) AS n FROM alerts WHERE acked_at IS NULL`);
      return { alerts: rows.map(toAlert), open: Number(open?.n ?? 0) };
    },
    { readOnly: true },
  );
}

/** Acknowledges one alert; false when no alert has that id. Acknowledging twice keeps the first time. */
export async function ackAlert(dataDir: string, id: string, now: Date): Promise<{ found: boolean; alreadyAcked: boolean }> {
  if (!existsSync(statePath(dataDir))) return { found: false, alreadyAcked: false };
  return withState(dataDir, async (db) => {
    const row = await db.one<{ acked: unknown }>(`SELECT acked_at IS NOT NULL AS acked FROM alerts WHERE alert_id = $id`, { id });
    if (!row) return { found: false, alreadyAcked: false };
    if (row.acked === true) return { found: true, alreadyAcked: true };
    await db.run(`UPDATE alerts SET acked_at = $now::TIMESTAMPTZ WHERE alert_id = $id`, { id, now: now.toISOString() });
    return { found: true, alreadyAcked: false };
  });
}
