import type { StageContext } from '../config/index.ts';
import type { AlertEvaluation, AlertMode } from './finding.ts';

/**
 * Runs the enabled rules over the lake. Live: rows with `ingested_at > since`; backtest: calls in
 * `[from, to)`. Never writes anything: persisting findings and the cursor is the caller's job.
 */
export async function evaluateAlerts(_ctx: StageContext, _mode: AlertMode): Promise<AlertEvaluation> {
  return { findings: [], cursor: null, callsEvaluated: 0 };
}
