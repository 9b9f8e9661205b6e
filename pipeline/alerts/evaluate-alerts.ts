/**
 * The alerts evaluation: reads the new lake rows and their bounded context (evaluate-scope.ts),
 * prices them with billing's rating plus fallback estimates (alert-rating.ts), runs every enabled
 * rule of reports/alerts/*.sql and keeps the findings whose window holds new calls. One in-memory
 * DuckDB session, thrown away at the end: nothing is written anywhere.
 */
import { Db } from '../db/duckdb.ts';
import { ALERT_RULE_NAMES, type AlertRuleName, type StageContext } from '../config/index.ts';
import { lakeCdrsSource, lakeFileStamps } from '../transform/index.ts';
import { buildAlertCalls } from './alert-rating.ts';
import { loadScope, touchBacktestRange, type ScopeLake } from './evaluate-scope.ts';
import type { AlertEvaluation, AlertFinding, AlertMode, AlertSeverity } from './finding.ts';
import { ALERT_SEVERITIES } from './finding.ts';
import { ALERT_MACROS_DIR, ALERT_RULES_DIR, BILLING_MACROS_DIR, readSqlFiles, type SqlText } from './rule-files.ts';
import { isMoneySetting, ruleSettingsRows, type SettingsRow } from './rule-settings.ts';

export interface EvaluateOptions {
  /** Where the rules live; defaults to the project's reports/alerts. */
  rulesDir?: string;
}

function isKnownRule(name: string): name is AlertRuleName {
  return (ALERT_RULE_NAMES as readonly string[]).includes(name);
}

/** The DuckDB type of one settings column, from its name and a value. */
function columnType(column: string, value: SettingsRow[string]): string {
  if (Array.isArray(value)) return 'INTEGER[]';
  if (typeof value === 'boolean') return 'BOOLEAN';
  if (typeof value === 'number') return Number.isInteger(value) ? 'BIGINT' : 'DOUBLE';
  return isMoneySetting(column) ? 'DECIMAL(18,6)' : 'VARCHAR';
}

/** (Re)creates the table `settings` a rule joins: one row per domain where the rule is enabled. */
async function createSettings(db: Db, rows: SettingsRow[], template: SettingsRow): Promise<void> {
  const structure = Object.fromEntries(Object.entries(template).map(([k, v]) => [k, columnType(k, v)]));
  await db.run(`CREATE OR REPLACE TABLE settings AS SELECT unnest(from_json($1::JSON, $2), recursive := true)`, [
    JSON.stringify(rows),
    JSON.stringify([structure]),
  ]);
}

interface FindingRow {
  domain: string;
  key: string | null;
  ws: string | number;
  we: string | number;
  severity: string | null;
  calls: string | number | null;
  amount: string | null;
  estimated: boolean | null;
  message: string | null;
  evidence: string | null;
}

async function runRule(db: Db, rule: SqlText): Promise<AlertFinding[]> {
  const body = rule.sql.replace(/;\s*$/, '');
  let rows: FindingRow[];
  try {
    rows = await db.all<FindingRow & Record<string, unknown>>(
      `SELECT f.domain, coalesce(f.key, '') AS key, epoch_ms(f.window_start) AS ws, epoch_ms(f.window_end) AS we,
              f.severity, f.calls, CAST(CAST(f.amount AS DECIMAL(18, 2)) AS VARCHAR) AS amount, f.estimated, f.message,
              CAST(to_json(f.evidence) AS VARCHAR) AS evidence
       FROM (\n${body}\n) AS f
       -- Only windows that hold new calls: the rest was judged when its own calls arrived.
       WHERE EXISTS (SELECT 1 FROM alert_touched AS t WHERE t.domain = f.domain
                     AND t.hour_start < f.window_end AND t.hour_start + INTERVAL 1 HOUR > f.window_start)
       ORDER BY f.domain, f.window_start, key`,
    );
  } catch (err) {
    throw new Error(`alert rule ${rule.name} (${rule.path}) failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return rows.map((r) => ({
    rule: rule.name,
    domain: r.domain,
    key: r.key ?? '',
    windowStart: new Date(Number(r.ws)),
    windowEnd: new Date(Number(r.we)),
    severity: (ALERT_SEVERITIES as readonly string[]).includes(r.severity ?? '') ? (r.severity as AlertSeverity) : 'warning',
    calls: Number(r.calls ?? 0),
    amount: r.amount ?? null,
    estimated: r.estimated === true,
    message: r.message ?? `${rule.name} in ${r.domain}`,
    evidence: r.evidence ? (JSON.parse(r.evidence) as Record<string, unknown>) : {},
  }));
}

/**
 * Runs the enabled rules over the lake. Live: rows with `ingested_at > since` (null: calls started
 * within `alerts.initialLookbackHours`); backtest: calls started in `[from, to)`, judged exactly as
 * live evaluation judges them. Never writes anything: persisting findings and the cursor is the
 * caller's job. In live mode the cursor is unchanged when nothing new landed.
 */
export async function evaluateAlerts(ctx: StageContext, mode: AlertMode, opts: EvaluateOptions = {}): Promise<AlertEvaluation> {
  const alerts = ctx.config.alerts;
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  // Wall and process CPU (DuckDB's threads included) since the pass began: the pass's profile at debug level.
  const step = (what: string, extra: Record<string, unknown> = {}) => {
    const cpu = process.cpuUsage(cpuStart);
    ctx.logger.debug(
      { ms: Math.round(performance.now() - started), cpuMs: Math.round((cpu.user + cpu.system) / 1000), ...extra },
      `alerts: ${what}`,
    );
  };
  if (!alerts.enabled) return { findings: [], cursor: mode.kind === 'live' ? mode.since : null, callsEvaluated: 0 };
  // Live: list the lake's files before reading any, so a file rewritten meanwhile differs from what is recorded.
  const listing = mode.kind === 'live' ? await lakeFileStamps(ctx.dataDir) : undefined;
  const lakeFiles = listing && new Map(listing.files.map((f) => [f.file, f.stamp]));
  const unchanged: AlertEvaluation = { findings: [], cursor: mode.kind === 'live' ? mode.since : null, callsEvaluated: 0, lakeFiles };
  let lake: ScopeLake | undefined;
  if (listing && listing.stray.length === 0) {
    lake = listing.files.length > 0 ? { files: listing.files } : undefined;
  } else {
    const source = lakeCdrsSource(ctx.dataDir);
    lake = source ? { source } : undefined;
  }
  if (!lake) return unchanged;
  step('lake listed', { files: listing?.files.length });
  const overrides = Object.values(alerts.domains);
  const limits = {
    baselineWeeks: Math.max(
      alerts.rules['spend-velocity'].baselineWeeks,
      ...overrides.map((o) => o.rules['spend-velocity']?.baselineWeeks ?? 0),
    ),
    historyDays: Math.max(
      alerts.rules['new-destination-country'].historyDays,
      ...overrides.map((o) => o.rules['new-destination-country']?.historyDays ?? 0),
    ),
    initialLookbackHours: alerts.initialLookbackHours,
    now: ctx.clock.now(),
  };
  const rules = await readSqlFiles(opts.rulesDir ?? ALERT_RULES_DIR());
  // A live pass is dozens of statements over a few thousand rows: on one thread each costs less CPU
  // and, on a busy machine, less wall time than split over threads. A backtest reads the whole lake.
  const db = await Db.open(':memory:', mode.kind === 'live' ? { settings: { threads: '1' } } : {});
  try {
    if (mode.kind === 'live') await db.run(`SET parquet_metadata_cache = true`);
    for (const m of [...(await readSqlFiles(BILLING_MACROS_DIR())), ...(await readSqlFiles(ALERT_MACROS_DIR()))]) await db.exec(m.sql);
    step('macros loaded');
    const scope = await loadScope(db, lake, mode, limits, step);
    step('scope read', { newCalls: scope.callsEvaluated });
    if (scope.callsEvaluated === 0) return { ...unchanged, cursor: scope.cursor };
    ctx.signal?.throwIfAborted();
    await buildAlertCalls(db, ctx, { macrosLoaded: true, ...(scope.domains ? { cdrDomains: scope.domains } : {}) });
    step('calls rated');
    const callsEvaluated = mode.kind === 'backtest' ? await touchBacktestRange(db, mode.from, mode.to) : scope.callsEvaluated;
    if (callsEvaluated === 0) return unchanged;
    const domains =
      scope.domains ?? (await db.all<{ domain: string }>(`SELECT DISTINCT domain FROM alert_touched ORDER BY domain`)).map((d) => d.domain);
    const findings: AlertFinding[] = [];
    for (const rule of rules) {
      ctx.signal?.throwIfAborted();
      // A rule file the config does not know (an analyst's own) runs with severity warning and the business hours.
      const rows = isKnownRule(rule.name)
        ? ruleSettingsRows(alerts, rule.name, domains)
        : domains.map((domain) => ({
            domain,
            severity: 'warning',
            business_days: alerts.businessHours.days,
            business_start: alerts.businessHours.start,
            business_end: alerts.businessHours.end,
          }));
      if (rows.length === 0) continue;
      await createSettings(db, rows, rows[0]!);
      findings.push(...(await runRule(db, rule)));
      step('rule run', { rule: rule.name });
    }
    return { findings, cursor: scope.cursor, callsEvaluated, lakeFiles };
  } finally {
    db.close();
  }
}
