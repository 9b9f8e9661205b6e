/**
 * The transform stage's public surface: other stages import from here, never from its files.
 */
export { carrierTerms, createCarrierCdrsView } from './carrier-inputs.ts';
export type { CarrierTerms } from './carrier-inputs.ts';
export { DataTestFailedError, assertWarehouseTestsPass } from './data-tests.ts';
export { formatReconcileTable, runReconcile } from './reconcile.ts';
export { runTransform } from './run-transform.ts';
export type { TransformSummary } from './run-transform.ts';
export { SQL_FORMATS, formatArrow, formatCsv, formatJson, formatTable } from './sql-output.ts';
export type { SqlFormat } from './sql-output.ts';
export { runQuery } from './sql-query.ts';
export { rateCalls } from './rate-calls.ts';
export type { RateCallsOptions, RateCallsResult } from './rate-calls.ts';
export { lakeCdrsSliceSource, lakeCdrsSource } from './lake-views.ts';
export { lakeFileStamps } from './lake-stamps.ts';
export type { LakeFileStamp } from './lake-stamps.ts';
export { RATE_DECK_COLUMNS, parseRateDeck, readRateDeck } from './rate-deck.ts';
export type { RateRow } from './rate-deck.ts';
