/**
 * Prices the calls an evaluation looks at with billing's own rating (transform's rateCalls: the
 * same macros, models and deck), and estimates what the deck cannot price from the configured
 * fallback rate of the call's destination class. The result is the table `alert_calls` the rule
 * SQL reads.
 */
import type { Db } from '../db/duckdb.ts';
import { FALLBACK_CLASSES, type StageContext } from '../config/index.ts';
import { rateCalls } from '../transform/index.ts';
import { ALERT_MACROS_DIR, readSqlFiles } from './rule-files.ts';

export interface AlertRatingResult {
  /** Set when the deck could not be read: deck-rated calls are then all estimated. */
  deckProblem: string | undefined;
}

/**
 * Builds `alert_calls` from the `cdrs` table in `db`; with `macrosLoaded`, billing's and the
 * alerts' macros are already in `db` (loading them again costs a pass tens of milliseconds). Amounts are each call's own price before
 * the monthly included minutes (the allowance is billing's, not a measure of spend, and it would
 * make a call's price depend on the whole month before it).
 */
export async function buildAlertCalls(
  db: Db,
  ctx: StageContext,
  opts: { macrosLoaded?: boolean; cdrDomains?: readonly string[] } = {},
): Promise<AlertRatingResult> {
  const { deckProblem } = await rateCalls(db, {
    ...ctx,
    ignoreIncludedMinutes: true,
    onlyCdrDomains: true,
    macrosLoaded: opts.macrosLoaded,
    ...(opts.cdrDomains ? { cdrDomains: opts.cdrDomains } : {}),
  });
  if (!opts.macrosLoaded) for (const m of await readSqlFiles(ALERT_MACROS_DIR())) await db.exec(m.sql);
  if (deckProblem)
    ctx.logger.warn({ problem: deckProblem }, 'alerts: rate deck unreadable; deck-rated calls are estimated from fallback rates');
  const fallback = ctx.config.alerts.fallbackRates;
  // One statement: each one costs a pass a few milliseconds, whatever it holds.
  await db.run(
    `CREATE OR REPLACE TABLE fallback_rates AS
    SELECT r.call_class::VARCHAR AS call_class, r.per_minute::DECIMAL(18,6) AS per_minute
    FROM (SELECT unnest(from_json($1::JSON, '[{"call_class":"VARCHAR","per_minute":"VARCHAR"}]'), recursive := true)) AS r`,
    [JSON.stringify(FALLBACK_CLASSES.map((c) => ({ call_class: c, per_minute: fallback[c] })))],
  );
  await db.run(`CREATE OR REPLACE TABLE alert_calls AS
    SELECT
      r.domain, r.id, r.start_time, r.end_time, r.time_zone, r.start_local,
      CAST(isodow(r.start_local) AS INTEGER) AS local_dow,
      strftime(r.start_local, '%H:%M') AS local_hhmm,
      r.direction,
      CASE WHEN r.direction = 'outbound' THEN r.orig_user ELSE r.term_user END AS extension,
      r.caller_e164, r.dialed_e164, r.remote_number, r.call_class,
      -- What the toll-fraud rules watch, decided once here rather than repeated in each rule.
      (r.direction = 'outbound' AND r.call_class IN ('international', 'premium')) AS high_cost,
      country_code(CASE WHEN r.direction = 'outbound' THEN r.dialed_e164 ELSE r.caller_e164 END) AS country_code,
      r.answered, r.talk_s, r.duration_s, r.billable,
      r.rate_rule, r.rate_description,
      coalesce(r.currency, 'USD') AS currency,
      -- Unpriced: a rule that should price the call found no price (the deck lacks the prefix).
      (r.billable AND r.answered AND r.talk_s > 0 AND r.rate_rule IN ('deck', 'inbound', 'toll-free-inbound') AND r.per_minute IS NULL) AS estimated,
      CASE
        WHEN r.billable AND r.answered AND r.talk_s > 0 AND r.rate_rule IN ('deck', 'inbound', 'toll-free-inbound') AND r.per_minute IS NULL
          THEN line_charge(billable_seconds(r.talk_s, 60, 60, 0), coalesce(f.per_minute, 0), 0, 6)
        ELSE coalesce(r.charge, 0)
      END AS charge
    FROM rated_calls AS r
    LEFT JOIN fallback_rates AS f ON f.call_class = r.call_class
    WHERE NOT r.is_reg_noise`);
  return { deckProblem };
}
