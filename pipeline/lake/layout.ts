import { join } from 'node:path';
import { encodePartitionValue } from './partition-path.ts';

// The data directory's one map of paths; the state database's own path lives with the state stage.
export { statePath } from '../state/index.ts';

/** Where everything lives under the data directory (the contract's layout). */
export const lakeDir = (dataDir: string) => join(dataDir, 'lake');
export const cdrsDir = (dataDir: string) => join(dataDir, 'lake', 'cdrs');
/** Lake files found damaged, moved aside with the reason (never read as part of the lake). */
export const quarantineDir = (dataDir: string) => join(dataDir, 'lake', 'quarantine');
export const rejectsDir = (dataDir: string) => join(dataDir, 'lake', 'rejects');
/** Domain objects as last fetched from the API (time zones etc.): lake/domains/domains.parquet. */
export const domainsDir = (dataDir: string) => join(dataDir, 'lake', 'domains');
/** The transform's output: SQL models materialised, rebuilt aside and renamed into place. */
export const warehousePath = (dataDir: string) => join(dataDir, 'warehouse.duckdb');
export const reportsDir = (dataDir: string, month: string) => join(dataDir, 'reports', month);
export const outboxDir = (dataDir: string) => join(dataDir, 'outbox');

/** lake/cdrs/month=YYYY-MM/domain=<encoded> */
export function partitionDir(dataDir: string, month: string, domain: string): string {
  if (!/^\d{4}-\d{2}$/.test(month)) throw new Error(`bad partition month ${JSON.stringify(month)}: expected YYYY-MM`);
  return join(cdrsDir(dataDir), `month=${month}`, `domain=${encodePartitionValue(domain)}`);
}

/**
 * The column that holds a partition's full domain name in files under a short partition name
 * (lake/partition-path.ts: names whose encoding is too long for a path segment). Readers take
 * `coalesce(domain_name, domain)`; ordinary partitions do not carry it.
 */
export const DOMAIN_NAME_COLUMN = 'domain_name';

/** lake/removed/month=YYYY-MM/domain=<encoded>: rows `ingest --prune` took out of lake/cdrs, kept with `removed_at`. */
export function removedPartitionDir(dataDir: string, month: string, domain: string): string {
  if (!/^\d{4}-\d{2}$/.test(month)) throw new Error(`bad partition month ${JSON.stringify(month)}: expected YYYY-MM`);
  return join(lakeDir(dataDir), 'removed', `month=${month}`, `domain=${encodePartitionValue(domain)}`);
}

/** A glob an analyst (or the transform) reads the whole lake with. */
export const cdrsGlob = (dataDir: string) => join(cdrsDir(dataDir), '**', '*.parquet');

/** Carrier CDR files as imported: lake/carrier_cdrs/carrier=<name>/month=YYYY-MM/<file>.parquet. */
export const carrierCdrsDir = (dataDir: string) => join(dataDir, 'lake', 'carrier_cdrs');
/** Carrier file lines that failed validation: lake/carrier_rejects/carrier=<name>/month=YYYY-MM|unknown/<sha>.parquet. */
export const carrierRejectsDir = (dataDir: string) => join(dataDir, 'lake', 'carrier_rejects');
/** The month partition of rejected lines whose start time could not be read. */
export const UNKNOWN_MONTH = 'unknown';

/** lake/carrier_cdrs/carrier=<name>/month=YYYY-MM */
export function carrierPartitionDir(dataDir: string, carrier: string, month: string): string {
  if (!/^\d{4}-\d{2}$/.test(month)) throw new Error(`bad partition month ${JSON.stringify(month)}: expected YYYY-MM`);
  return join(carrierCdrsDir(dataDir), `carrier=${encodePartitionValue(carrier)}`, `month=${month}`);
}

/** lake/carrier_rejects/carrier=<name>/month=YYYY-MM (or month=unknown) */
export function carrierRejectsPartitionDir(dataDir: string, carrier: string, month: string): string {
  if (month !== UNKNOWN_MONTH && !/^\d{4}-\d{2}$/.test(month)) {
    throw new Error(`bad partition month ${JSON.stringify(month)}: expected YYYY-MM or ${UNKNOWN_MONTH}`);
  }
  return join(carrierRejectsDir(dataDir), `carrier=${encodePartitionValue(carrier)}`, `month=${month}`);
}

/** Every imported carrier record (read with hive_partitioning for `carrier` and `month`). */
export const carrierCdrsGlob = (dataDir: string) => join(carrierCdrsDir(dataDir), '**', '*.parquet');
/** Every rejected carrier line. */
export const carrierRejectsGlob = (dataDir: string) => join(carrierRejectsDir(dataDir), '**', '*.parquet');
