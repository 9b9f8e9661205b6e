/**
 * The state stage's public surface: other stages import from here, never from its files.
 */
export { COMPLETENESS_SQL, openAnomalyDomainsOf, recordAnomaly, resolveAnomaliesWithin } from './anomalies.ts';
export type { Anomaly } from './anomalies.ts';
export { dropDomainList, readDomainList, writeDomainList } from './domain-list.ts';
export type { CachedDomainList } from './domain-list.ts';
export { holdState, withState } from './state-db.ts';
export type { StateHold } from './state-db.ts';
export { statePath } from './state-path.ts';
export { advanceWatermarkRow, advanceWatermarkRows, pullBackWatermarks, readWatermarks, rewindWatermarkRow } from './watermarks.ts';
