/**
 * @coldtier/offload-core — config, watermarks, job runners and the cycle
 * orchestrator for offloading ClickHouse tables to Iceberg.
 */
export {
  OffloadError,
  ConfigError,
  IdentifierError,
  WatermarkConflictError,
  LeaseUnavailableError,
  UnknownTableError,
  JobFailedError,
  DatabaseError,
  JOB_ERROR_TYPES,
  databaseErrorType,
  errorTypeOf,
  messageOf,
} from './errors.js';
export type { OffloadErrorKind, OffloadErrorOptions, ConfigIssue, JobErrorType } from './errors.js';

export { systemClock, ManualClock } from './clock.js';
export type { Clock } from './clock.js';
export { silentLogger } from './logger.js';
export { logOffloadEvents, createLineLogger } from './logging/index.js';
export type { LineLoggerOptions, LogLevel } from './logging/index.js';
export type { Logger, LogFields } from './logger.js';

export {
  assertIdentifier,
  isIdentifier,
  parseQualifiedName,
  quoteClickHouse,
  quoteClickHouseQualified,
  quotePostgres,
} from './identifiers/index.js';
export type { QualifiedName } from './identifiers/index.js';

export { configSchema, tableSchema, LAYERS, parseConfig, loadConfigFile, formatPath, resolveDatabaseUrl, redactUrl, isObjectStoreLocation } from './config/index.js';
export type {
  ConfigInput,
  EmbeddedRunnerConfig,
  MaintenanceConfig,
  RestCatalogConfig,
  RestCatalogSecret,
  S3StorageConfig,
  Layer,
  OffloadConfig,
  PartitionField,
  RetryPolicy,
  RunnerConfig,
  SparkRunnerConfig,
  TableConfig,
  TableConfigInput,
} from './config/index.js';

export {
  INITIAL_CURSOR,
  compareCursors,
  cursorsEqual,
  formatMicros,
  parseMicros,
  microsFromDate,
  dateFromMicros,
  cursorToJson,
  cursorFromJson,
  formatCursor,
} from './watermark/cursor.js';
export type { Cursor, CursorValue, CursorJson } from './watermark/cursor.js';
export type { OffloadWindow } from './watermark/window.js';
export type {
  AcquireLeaseOptions,
  WatermarkStore,
  WatermarkState,
  WatermarkStatus,
  Lease,
  RunOutcome,
  RunRecord,
  RunStart,
  RunSuccess,
  RunFailure,
  RunQuery,
  CycleRecord,
  CycleQuery,
} from './watermark/store.js';
export { checkCursorUniqueness, checkSourceColumns, sourceColumnIssues } from './source/index.js';
export type { CursorUniqueness, CursorUniquenessOptions, DuplicateCursor } from './source/index.js';
export { offloadLagMinutes } from './watermark/lag.js';

export {
  parseTtlDeleteRules,
  ttlHeadroomSeconds,
  probeTtl,
  TtlMonitor,
  TtlGuard,
  ttlGuardDecision,
  boundaryViewName,
  boundaryViewSql,
  BoundaryViews,
} from './boundary/index.js';
export type {
  TtlDeleteRule,
  TtlProbe,
  TtlProbeRequest,
  TtlMonitorOptions,
  WatermarkSource,
  GuardedTable,
  TtlGuardAction,
  TtlGuardBounds,
  TtlGuardEvent,
  TtlGuardOptions,
  TtlMergesState,
  BoundaryViewSpec,
  IcebergTableRef,
  BoundaryViewsOptions,
} from './boundary/index.js';
export { PostgresWatermarkStore } from './watermark/postgres-store.js';
export type { PostgresWatermarkStoreOptions } from './watermark/postgres-store.js';
export { migrate, pendingMigrations, WATERMARK_MIGRATIONS, DEFAULT_WATERMARK_SCHEMA } from './watermark/migrations.js';
export type { WatermarkMigration, MigrateOptions } from './watermark/migrations.js';
export type { PgPool, PgPoolClient, PgQueryable } from './watermark/pg-client.js';
export { MAX_ERROR_MESSAGE_LENGTH } from './watermark/rules.js';

export type { OffloadJob, JobResult, JobTimings, JobRunner } from './runner/contract.js';
export {
  EmbeddedIcebergRunner,
  classifyEmbeddedFailure,
  SUMMARY_RUN_ID,
  SUMMARY_SOURCE_TABLE,
  SUMMARY_WATERMARK,
  WATERMARK_PROPERTY_PREFIX,
  coldtierSummary,
  coldtierTableProperties,
  committedWatermarkOf,
  watermarkPropertyKey,
  TARGET_TABLE_PROPERTIES,
  partitionSpecFor,
  prepareTarget,
  selectColumns,
  targetIdentifier,
  findOrphanDataFiles,
  cleanOrphanDataFiles,
} from './runner/embedded/index.js';
export type {
  EmbeddedIcebergRunnerOptions,
  EmbeddedStage,
  EmbeddedStageInfo,
  TransactionalWatermarkStore,
  PreparedTarget,
  OrphanDataFile,
  OrphanScanOptions,
} from './runner/embedded/index.js';
export { classifyJobExit, CONNECTION_PATTERNS, OUT_OF_MEMORY_PATTERNS } from './runner/classify.js';
export type { JobExit, JobExitContext, JobExitDetails } from './runner/classify.js';
export {
  SparkJobRunner,
  buildJobArgs,
  secretEnv,
  CLICKHOUSE_PASSWORD_ENV,
  CATALOG_PASSWORD_ENV,
  RESULT_PREFIX,
} from './runner/spark/index.js';
export type {
  SparkJobRunnerOptions,
  ClickHouseHttpSettings,
  IcebergCatalogSettings,
  JobConnections,
  SpawnFunction,
} from './runner/spark/index.js';

export { planWindow } from './cycle/plan.js';
export type { PlannedWindow } from './cycle/plan.js';
export { buildDependencyGraph, DependencyCycleError } from './cycle/graph.js';
export type { DependencyGraph } from './cycle/graph.js';
export { CycleOrchestrator, runCycle, cycleStatus } from './cycle/orchestrator.js';
export type { OrchestratorOptions, CycleOptions } from './cycle/orchestrator.js';
export { backoffDelayMs } from './cycle/retry.js';
export { runTableMaintenance } from './maintenance/index.js';
export type { TableMaintenanceOptions, TableMaintenanceResult } from './maintenance/index.js';
export type { Sleep } from './cycle/retry.js';
export { OffloadEvents } from './cycle/events.js';
export type { OffloadEvent, OffloadEventType, OffloadEventListener } from './cycle/events.js';
export type {
  CycleReport,
  CycleStatus,
  SkipReason,
  TableOutcome,
  TableSucceeded,
  TableFailed,
  TableSkipped,
} from './cycle/report.js';
export { cycleRecordOf } from './cycle/report.js';

export {
  FilesystemCatalog,
  SqlCatalog,
  LocalFileIO,
  S3FileIO,
  StorageError,
  fileIOFor,
  clickHouseParquetFile,
  clickHouseIcebergTable,
  clickHouseObjectUrl,
  INLINE_SQL_VALUES,
  RestCatalog,
  RestCatalogError,
  bearerToken,
  clientCredentials,
  noAuth,
  fastAppend,
  listLiveDataFiles,
  mainAncestry,
  latestSummaryValue,
  readSnapshotManifests,
  readManifestEntries,
  CommitConflictError,
  CommitStateUnknownError,
  TableAlreadyExistsError,
  IcebergSpecError,
  FileAlreadyExistsError,
  formatIdentifier,
  tableMetadataFromJson,
  tableMetadataToJson,
  currentSnapshot,
  currentSchema,
  applyUpdates,
  applyTransform,
  parseTransform,
  partitionPath,
  bindPartitionSpec,
  valueToBytes,
  valueFromBytes,
  UNPARTITIONED_SPEC,
  MAIN_BRANCH,
  TYPE_MAPPING,
  evolveSchema,
  SchemaMismatchError,
  parseClickHouseType,
  ClickHouseParquetSource,
  describeClickHouseColumns,
  ParquetWriteError,
  PARQUET_OUTPUT_SETTINGS,
  ClickHouseFileRewriter,
  MAINTENANCE_ACTIONS,
  maintainTable,
  tableStats,
  compactTable,
  expireSnapshots,
  rewriteManifests,
  cleanOrphanFiles,
  GcDisabledError,
  RewriteValidationError,
} from './iceberg/index.js';
export type {
  Catalog,
  CommitOptions,
  CreateTableRequest,
  LoadedTable,
  TableIdentifier,
  FileIO,
  StagedFile,
  StagedObject,
  S3StorageOptions,
  StorageOptions,
  ClickHouseS3Access,
  SqlValues,
  RestAuth,
  RestCatalogOptions,
  ClientCredentials,
  FastAppendOptions,
  FastAppendResult,
  TableMetadata,
  TableUpdate,
  TableRequirement,
  Snapshot,
  SnapshotSummary,
  PartitionSpec,
  DataFile,
  PartitionValue,
  IcebergSchema,
  IcebergType,
  NestedField,
  PrimitiveType,
  LiveDataFile,
  FilesystemCatalogOptions,
  SqlCatalogOptions,
  ClickHouseColumn,
  TypeMappingRow,
  ClickHouseParquetSourceOptions,
  ParquetExportMode,
  ParquetQueryClient,
  WrittenWindow,
  ActionOutcome,
  ClickHouseFileRewriterOptions,
  DataFileRewriter,
  MaintainOptions,
  MaintenanceAction,
  MaintenanceProgress,
  MaintenanceReport,
  TableStats,
  CompactionReport,
  ExpireSnapshotsReport,
  OrphanReport,
  RewriteManifestsResult,
} from './iceberg/index.js';

export { reconcile, ClickHouseDataReader, ReconcileError, MAX_RANGES } from './reconcile/index.js';
export type {
  ReconcileOptions,
  ReconcileResult,
  ReconcileRange,
  ReconcileTotals,
  RangeStatus,
  IcebergDataReader,
  DataReadRequest,
  DataBucket,
  Granularity,
} from './reconcile/index.js';

export { bronzeTableDdl, insertTrades } from './sample/index.js';
export type { BronzeTableOptions, TradeBatch } from './sample/index.js';
