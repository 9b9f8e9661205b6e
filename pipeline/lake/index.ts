/**
 * The lake stage's public surface: other stages import from here, never from its files.
 */
export { DamagedLakeError, damagedLakeErrorOr, lakeFiles, setAsideDamagedLakeFiles } from './damaged-files.ts';
export { LAKE_COLUMNS } from './lake-columns.ts';
export type { LakeColumn } from './lake-columns.ts';
export { LakeWriter } from './lake-writer.ts';
export type { RejectRow } from './lake-writer.ts';
export {
  DOMAIN_NAME_COLUMN,
  UNKNOWN_MONTH,
  carrierCdrsDir,
  carrierCdrsGlob,
  carrierPartitionDir,
  carrierRejectsDir,
  carrierRejectsGlob,
  carrierRejectsPartitionDir,
  cdrsDir,
  cdrsGlob,
  domainsDir,
  lakeDir,
  outboxDir,
  partitionDir,
  rejectsDir,
  reportsDir,
  statePath,
  warehousePath,
} from './layout.ts';
export { decodePartitionValue, encodePartitionValue, isShortPartitionValue } from './partition-path.ts';
export { isPlainRecord } from './plain-record.ts';
export { byteSpansByParsing, encodeRecords, encodeValues, recordBoundaries, spoolFileName } from './spool-format.ts';
