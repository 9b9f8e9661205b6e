/**
 * The lake stage's public surface: other stages import from here, never from its files.
 */
export { DamagedLakeError, damagedLakeErrorOr, lakeFiles, setAsideDamagedLakeFiles } from './damaged-files.ts';
export { LAKE_COLUMNS } from './lake-columns.ts';
export {
  COMPACTED_PREFIX,
  compactedGeneration,
  compactedPartitionValue,
  domainMonthFiles,
  lakeHasCompactedMonths,
  monthPartitions,
  newestCompactedFiles,
} from './compacted-partition.ts';
export type { MonthPartitions } from './compacted-partition.ts';
export { countedRowsFrom, countedRowsSql } from './counted-rows-sql.ts';
export type { CountedRowsOptions } from './counted-rows-sql.ts';
export { DEFAULT_COMPACT_SHAPE, compactMonth, domainGroups } from './compact-month.ts';
export type { CompactMonthResult, CompactShape } from './compact-month.ts';
export { compactLake, isClosedMonth } from './compact-lake.ts';
export type { CompactLakeOptions } from './compact-lake.ts';
export { LAKE_DDL_ENGINES, LakeDdlError, isLakeDdlEngine, lakeDdl, lakeFileColumns, parseLakeLocation } from './lake-ddl.ts';
export type { LakeDdlEngine, LakeDdlOptions, LakeLocation } from './lake-ddl.ts';
export { listLakePartitions } from './lake-partitions.ts';
export type { LakePartitions } from './lake-partitions.ts';
export type { LakeColumn } from './lake-columns.ts';
export { LakeWriter } from './lake-writer.ts';
export { dropLakeFile, publishLakeFile } from './lake-publish.ts';
export type { PartitionWrite, PartitionWriteResult, RejectRow } from './lake-writer.ts';
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
