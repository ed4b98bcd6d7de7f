/**
 * Coldtier's native Iceberg (format v2) layer, laid out like iceberg-rust:
 * `spec/` is the pure data model with its readers and writers, `io/` the
 * storage, `catalog/` the catalogs, `transaction/` the actions (fast
 * append, replace, expire) on one commit loop, `maintenance/` compaction
 * and cleanup built from them.
 */
export type {
  IcebergSchema,
  IcebergType,
  ListType,
  MapType,
  NestedField,
  PrimitiveType,
  StructType,
} from './spec/types.js';
export type { DataFile, PartitionValue } from './spec/data-file.js';
export { IcebergSpecError } from './spec/errors.js';
export { parseJson, stringifyJson } from './spec/json.js';
export type { JsonValue } from './spec/json.js';
export {
  allFields,
  decimalParams,
  findFieldById,
  findFieldByName,
  fixedLength,
  highestFieldId,
  isPrimitive,
  schemaFromJson,
} from './spec/schema.js';
export {
  decimalFromBytes,
  decimalToBytes,
  uuidFromBytes,
  uuidToBytes,
  valueFromBytes,
  valueToBytes,
} from './spec/values.js';
export type { PrimitiveValue } from './spec/values.js';
export { murmur3x86_32 } from './spec/murmur3.js';
export {
  applyTransform,
  bucketHash,
  humanString,
  parseTransform,
  transformResultType,
  transformToString,
} from './spec/transform.js';
export type { Transform } from './spec/transform.js';
export {
  FIRST_PARTITION_FIELD_ID,
  UNPARTITIONED_SPEC,
  bindPartitionSpec,
  highestPartitionFieldId,
  partitionPath,
  partitionType,
  sameFields,
} from './spec/partition.js';
export type { BoundPartitionField, PartitionField, PartitionSpec } from './spec/partition.js';
export { UNSORTED_ORDER } from './spec/sort-order.js';
export type { SortField, SortOrder } from './spec/sort-order.js';
export { MAIN_BRANCH, appendSummary, replaceSummary } from './spec/snapshot.js';
export type { Snapshot, SnapshotOperation, SnapshotRef, SnapshotSummary } from './spec/snapshot.js';
export {
  currentSchema,
  currentSnapshot,
  defaultSpec,
  newTableMetadata,
  snapshotById,
  snapshotToJson,
  tableMetadataFromJson,
  tableMetadataToJson,
} from './spec/table-metadata.js';
export type { MetadataLogEntry, SnapshotLogEntry, TableMetadata } from './spec/table-metadata.js';
export { applyUpdates, failedRequirement } from './spec/table-update.js';
export type { TableRequirement, TableUpdate } from './spec/table-update.js';
export { ManifestEntryStatus, manifestEntrySchema, readManifest, writeManifest } from './spec/manifest.js';
export type { Manifest, ManifestContext, ManifestEntry } from './spec/manifest.js';
export { MANIFEST_FILE_SCHEMA, readManifestList, summarizePartitions, writeManifestList } from './spec/manifest-list.js';
export type { FieldSummary, ManifestFile, ManifestListContext } from './spec/manifest-list.js';

export { FileAlreadyExistsError } from './io/file-io.js';
export type { FileIO, FileInfo, StagedFile, StagedObject } from './io/file-io.js';
export { LocalFileIO, fileUri, localPath } from './io/local.js';
export { S3FileIO, StorageError, parseS3Location, s3ClientConfig } from './io/s3.js';
export type { S3StorageOptions } from './io/s3.js';
export { fileIOFor } from './io/for-location.js';
export { INLINE_SQL_VALUES, clickHouseIcebergTable, clickHouseObjectUrl, clickHouseParquetFile } from './io/clickhouse-files.js';
export type { ClickHouseS3Access, IcebergTableOptions, ParquetFileOptions, SqlValues } from './io/clickhouse-files.js';
export type { StorageOptions } from './io/for-location.js';

export { CommitConflictError, CommitStateUnknownError, TableAlreadyExistsError, formatIdentifier } from './catalog/catalog.js';
export type { Catalog, CommitOptions, CreateTableRequest, LoadedTable, TableIdentifier } from './catalog/catalog.js';
export { FilesystemCatalog } from './catalog/filesystem.js';
export type { FilesystemCatalogOptions } from './catalog/filesystem.js';
export { SqlCatalog } from './catalog/sql.js';
export { RestCatalog, RestCatalogError, bearerToken, clientCredentials, noAuth } from './catalog/rest/index.js';
export type { ClientCredentials, RestAuth, RestCatalogOptions } from './catalog/rest/index.js';
export type { SqlCatalogOptions } from './catalog/sql.js';
export { encodeMetadataFile, METADATA_COMPRESSION, metadataCodec, metadataSuffix, readMetadataFile } from './catalog/metadata-file.js';
export type { MetadataCodec } from './catalog/metadata-file.js';

export { fastAppend } from './transaction/fast-append.js';
export type { FastAppendOptions, FastAppendResult } from './transaction/fast-append.js';
export { deleteAll, retryPolicyOf, runCommitLoop } from './transaction/commit-loop.js';
export type { ActionPlan, CommitAction, CommitAttempt, CommitLoopOptions, CommitLoopResult, RetryPolicy } from './transaction/commit-loop.js';
export { produceSnapshot } from './transaction/snapshot-producer.js';
export { GcDisabledError, expireSnapshots, snapshotsToExpire } from './transaction/expire-snapshots.js';
export type { ExpireSnapshotsOptions, ExpireSnapshotsReport } from './transaction/expire-snapshots.js';
export { RewriteValidationError, rewriteFiles } from './transaction/rewrite-files.js';
export { rewriteManifests } from './transaction/rewrite-manifests.js';
export type { RewriteManifestsOptions, RewriteManifestsResult } from './transaction/rewrite-manifests.js';
export type { RewriteFilesOptions, RewriteFilesResult } from './transaction/rewrite-files.js';
export {
  ClickHouseFileRewriter,
  DEFAULT_ORPHAN_GRACE_MS,
  MAINTENANCE_ACTIONS,
  cleanOrphanFiles,
  maintainTable,
  tableStats,
  compactTable,
  compactionPolicyOf,
  planCompaction,
} from './maintenance/index.js';
export type {
  ClickHouseFileRewriterOptions,
  CompactionGroup,
  CompactionOptions,
  CompactionPolicy,
  CompactionReport,
  DataFileRewriter,
  OrphanCleanupOptions,
  OrphanReport,
  ActionOutcome,
  MaintainOptions,
  MaintenanceAction,
  MaintenanceProgress,
  MaintenanceReport,
  TableStats,
} from './maintenance/index.js';
export type { ProducedSnapshot } from './transaction/snapshot-producer.js';
export { mergePolicyOf } from './transaction/manifest-merge.js';
export type { MergePolicy } from './transaction/manifest-merge.js';
export { newSnapshotId } from './transaction/snapshot-id.js';
export {
  latestSummaryValue,
  listLiveDataFiles,
  mainAncestry,
  readManifestEntries,
  readSnapshotManifests,
} from './transaction/table-scan.js';
export type { LiveDataFile } from './transaction/table-scan.js';

export {
  ClickHouseTypeError,
  formatClickHouseType,
  parseClickHouseType,
  unwrapClickHouseType,
} from './schema-mapping/clickhouse-type.js';
export type { ClickHouseType, TupleElement } from './schema-mapping/clickhouse-type.js';
export { TYPE_MAPPING, icebergPrimitiveOf, selectExpression, targetClickHouseType } from './schema-mapping/type-mapping.js';
export type { TypeMappingRow } from './schema-mapping/type-mapping.js';
export { SchemaMismatchError, canPromote, evolveSchema } from './schema-mapping/evolve.js';
export type { ClickHouseColumn, EvolveOptions, EvolvedSchema, SchemaChange } from './schema-mapping/evolve.js';

export { ParquetFooterError, readParquetFooter, schemaTree, writeParquetFooter } from './parquet/footer.js';
export type { ParquetFooter, SchemaNode } from './parquet/footer.js';
export { FieldIdMappingError, assignFieldIds } from './parquet/field-ids.js';
export { footerMetrics } from './parquet/metrics.js';
export type { ParquetMetrics } from './parquet/metrics.js';
export { fieldIdTail, rewriteWithFieldIds } from './parquet/rewrite.js';
export type { FieldIdTail, RewrittenParquet } from './parquet/rewrite.js';

export {
  ClickHouseParquetSource,
  PARQUET_OUTPUT_SETTINGS,
  ParquetWriteError,
  describeClickHouseColumns,
} from './writer/clickhouse-parquet-source.js';
export type {
  ClickHouseParquetSourceOptions,
  ParquetExportMode,
  ParquetQueryClient,
  ParquetSourceTable,
  WriteWindowRequest,
  WrittenWindow,
} from './writer/clickhouse-parquet-source.js';
export { PartitionTransformError } from './writer/partition-sql.js';
