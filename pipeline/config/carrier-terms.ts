import type { CarrierSettings } from './config-schema.ts';
import { resolveProjectPath } from './load-config.ts';

/**
 * A carrier's reconciliation terms with the contract's defaults filled in: 6/6 increments, ±5 s,
 * one subsequent increment of duration, 0.01 of cost, thresholds 0, 0, 0.00, costs in USD. Both
 * the import and reconcile (carrier stage) and the warehouse's carrier_terms (transform stage)
 * read a carrier's terms from here, so the two can never disagree.
 */
export interface CarrierTermSettings {
  /** Currency of costs when the file has no currency column. */
  currency: string;
  increments: { initial: number; subsequent: number };
  /** Absolute path of the buy-side deck, when one is configured. */
  buyDeck?: string;
  tolerances: { timeSeconds: number; durationSeconds: number; cost: string };
  disputeThresholds: { disputes: number; phantoms: number; amount: string };
  /** Absolute path of the watched folder, when one is configured. */
  inbox?: string;
}

/** The terms of a `carriers.<name>` entry (undefined: a preset used unconfigured) over the defaults. */
export function carrierTermSettings(entry: CarrierSettings | undefined): CarrierTermSettings {
  const increments = entry?.increments ?? { initial: 6, subsequent: 6 };
  return {
    currency: entry?.currency ?? 'USD',
    increments,
    ...(entry?.buyDeck === undefined ? {} : { buyDeck: resolveProjectPath(entry.buyDeck) }),
    tolerances: {
      timeSeconds: entry?.tolerances?.timeSeconds ?? 5,
      durationSeconds: entry?.tolerances?.durationSeconds ?? increments.subsequent,
      cost: entry?.tolerances?.cost ?? '0.01',
    },
    disputeThresholds: {
      disputes: entry?.disputeThresholds?.disputes ?? 0,
      phantoms: entry?.disputeThresholds?.phantoms ?? 0,
      amount: entry?.disputeThresholds?.amount ?? '0.00',
    },
    ...(entry?.inbox === undefined ? {} : { inbox: resolveProjectPath(entry.inbox) }),
  };
}
