/** What `carrier reconcile` reports: the contract's JSON per carrier, and where the dispute files went. */

/** One carrier's month, as the contract's `--json` prints it (money as decimal strings, two places). */
export interface CarrierReconcileLine {
  carrier: string;
  records: number;
  matched: number;
  duration_dispute: number;
  cost_dispute: number;
  carrier_only: number;
  pbx_only: number;
  carrier_cost: string;
  expected_cost: string;
  disputed_amount: string;
}

/** The contract's `--json` object. */
export interface CarrierReconcileJson {
  month: string;
  carriers: CarrierReconcileLine[];
}

/** One carrier over its thresholds: why `carrier reconcile` exits 3. */
export interface CarrierOverThreshold {
  carrier: string;
  detail: string;
}

export interface CarrierReconcileResult {
  month: string;
  lines: CarrierReconcileLine[];
  /** Disputed amount per carrier in micro-units' text (DECIMAL(18,6)), exact, for thresholds and reports. */
  exactDisputed: Record<string, string>;
  /** reports/YYYY-MM/carriers/<name>/disputes.csv per carrier. */
  disputeFiles: Record<string, string>;
  over: CarrierOverThreshold[];
  ok: boolean;
}
