/**
 * The carrier stage's public surface (the cost side: carrier CDR files in, matched against the
 * PBX's calls): other stages import from here, never from its files.
 */
export { CARRIER_FORMATS, requiredHeaders } from './carrier-formats.ts';
export type { CarrierColumnMap, CarrierFormat } from './carrier-formats.ts';
export { carrierNames, resolveCarrier } from './carrier-settings.ts';
export type { ResolvedCarrier } from './carrier-settings.ts';
export { CarrierDisputeError, runCarrierReconcile } from './reconcile-run.ts';
export type { CarrierReconcileOptions } from './reconcile-run.ts';
export { carrierReconcileJson, formatCarrierReconcile } from './reconcile-output.ts';
export { DISPUTE_COLUMNS, disputeFilePath } from './reconcile-disputes.ts';
export type { CarrierReconcileJson, CarrierReconcileLine, CarrierReconcileResult } from './reconcile-types.ts';
export { CARRIER_REJECT_REASONS, REJECTS_SHOWN, importCarrierFile } from './carrier-import.ts';
export type { CarrierImportOptions, CarrierImportResult } from './carrier-import.ts';
export { runCarrierInbox } from './reconcile-inbox.ts';
export type { CarrierInboxOptions, CarrierInboxResult } from './reconcile-inbox.ts';
export { formatNumberVariant, toE164 } from './carrier-numbers.ts';
export { EXPORT_FORMATS, carrierPriceList, exportCarrierFile } from './carrier-sim-export.ts';
export type { CarrierDiscrepancies, CarrierExportOptions, CarrierExportResult, CarrierStatus, CarrierTruth } from './carrier-sim-export.ts';
