/** What makes two findings the same alert, and the pure rules for merging a finding into one. */
import { createHash } from 'node:crypto';
import { formatScaled, MONEY_SCALE, parseDecimal } from '../util/money.ts';
import type { AlertFinding, AlertSeverity } from './finding.ts';

/**
 * The alert's id: the first 12 hex digits of SHA-256 over (rule, domain, key, window start, window
 * end). Stable across runs and machines, so overlapping evaluations and a backtest name the same
 * finding the same way.
 */
export function alertIdOf(f: Pick<AlertFinding, 'rule' | 'domain' | 'key' | 'windowStart' | 'windowEnd'>): string {
  const identity = JSON.stringify([f.rule, f.domain, f.key, f.windowStart.toISOString(), f.windowEnd.toISOString()]);
  return createHash('sha256').update(identity).digest('hex').slice(0, 12);
}

/**
 * What escalation compares, in micro-units: the amount, or for a finding not about money its
 * number of calls (a wangiri burst that doubles is as worth a second notice as a bill).
 */
export function measureOf(f: Pick<AlertFinding, 'amount' | 'calls'>): bigint {
  return f.amount === null ? BigInt(f.calls) * 10n ** BigInt(MONEY_SCALE) : parseDecimal(f.amount, MONEY_SCALE);
}

/** Decimal text as alerts show it: exact, trailing zeros dropped down to two decimals ("12.340000" -> "12.34"). */
export function normalizeAmount(text: string | null): string | null {
  if (text === null) return null;
  const full = formatScaled(parseDecimal(text, MONEY_SCALE), MONEY_SCALE);
  return full.replace(/(\.\d\d\d*?)0+$/, '$1');
}

/** The part of a stored alert that merging needs. */
export interface StoredAlertState {
  measure: bigint;
  level: number;
  notifiedMeasure: bigint;
  acked: boolean;
}

export const MERGE_ACTIONS = ['new', 'escalated', 'updated', 'unchanged'] as const;
export type MergeAction = (typeof MERGE_ACTIONS)[number];

export interface MergeResult {
  action: MergeAction;
  /** Whether the stored figures (calls, amount, message, evidence) take the new finding's. */
  replace: boolean;
  level: number;
  notifiedMeasure: bigint;
  /** True when an escalation re-opens an acknowledged alert. */
  reopen: boolean;
}

/**
 * Merges a finding into the alert of the same identity.
 * - New identity: level 0, notify.
 * - Same identity again (overlapping evaluations): the alert keeps the largest observation; a
 *   smaller one (an evaluation that saw part of the window) changes nothing.
 * - The measure reached twice the last notified one: the level goes up by one and the alert is
 *   notified again, once per doubling; an acknowledged alert is re-opened (the fraud went on).
 */
export function mergeFinding(prev: StoredAlertState | undefined, finding: Pick<AlertFinding, 'amount' | 'calls'>): MergeResult {
  const measure = measureOf(finding);
  if (!prev) return { action: 'new', replace: true, level: 0, notifiedMeasure: measure, reopen: false };
  if (measure < prev.measure)
    return { action: 'unchanged', replace: false, level: prev.level, notifiedMeasure: prev.notifiedMeasure, reopen: false };
  if (measure > prev.notifiedMeasure && measure >= 2n * prev.notifiedMeasure) {
    return { action: 'escalated', replace: true, level: prev.level + 1, notifiedMeasure: measure, reopen: prev.acked };
  }
  return {
    action: measure === prev.measure ? 'unchanged' : 'updated',
    replace: true,
    level: prev.level,
    notifiedMeasure: prev.notifiedMeasure,
    reopen: false,
  };
}

const SEVERITY_RANK: Record<AlertSeverity, number> = { info: 0, warning: 1, critical: 2 };

/** Whether `severity` is at or above `min`. */
export function severityAtLeast(severity: AlertSeverity, min: AlertSeverity): boolean {
  return SEVERITY_RANK[severity] >= SEVERITY_RANK[min];
}
