/** How loud a finding is; config picks one per rule (and per domain). */
export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** One row a rule returns: what happened, where, when (in the window of the calls' own times). */
export interface AlertFinding {
  /** Rule name = the rule's file name without `.sql`, e.g. `spend-velocity`. */
  rule: string;
  domain: string;
  /** What inside the domain: an extension, a destination country code, or `''` for domain-wide. */
  key: string;
  /** UTC start of the window of the calls' own start times (e.g. the hour bucket), inclusive. */
  windowStart: Date;
  /** UTC end of that window, exclusive. */
  windowEnd: Date;
  severity: AlertSeverity;
  /** Calls behind the finding. */
  calls: number;
  /** Decimal string in the domain's currency; null when the finding is not about money. */
  amount: string | null;
  /** True when part of `amount` comes from fallback rates rather than the rate deck (the message says so). */
  estimated: boolean;
  /** One plain-text line an operator understands. */
  message: string;
  /** JSON-safe detail: sample call ids, numbers, the thresholds used. */
  evidence: Record<string, unknown>;
}

/** What one evaluation returns. */
export interface AlertEvaluation {
  findings: AlertFinding[];
  /** Lake rows seen up to (their greatest `ingested_at`); null when no row was read. */
  cursor: Date | null;
  /** Calls the rules looked at as new (live: newly ingested rows; backtest: calls in the range). */
  callsEvaluated: number;
  /**
   * Live: the lake's files (path under lake/cdrs → stamp) as this pass listed them before reading,
   * to record with the cursor; the next pass skips the files whose stamp is still the same.
   * Undefined: keep what is recorded.
   */
  lakeFiles?: ReadonlyMap<string, string>;
}

/**
 * Which calls an evaluation covers. `live`: rows with `ingested_at > since` (null = everything in
 * the lookback), each judged in the window of its own call time; `seen`, the lake files the pass
 * that set `since` listed (its `lakeFiles`): a file with the same stamp holds no newer row and is
 * not opened. `backtest`: calls started in `[from, to)`, judged exactly as live evaluation would
 * have judged them.
 */
export type AlertMode =
  { kind: 'live'; since: Date | null; seen?: ReadonlyMap<string, string> } | { kind: 'backtest'; from: Date; to: Date };
