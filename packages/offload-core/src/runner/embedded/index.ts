/**
 * The embedded runner: offloads in process (ClickHouse writes the Parquet,
 * Coldtier commits it to Iceberg), with the table's snapshot summary as the
 * record of what each source has committed.
 */
export { EmbeddedIcebergRunner } from './embedded-runner.js';
export type {
  EmbeddedIcebergRunnerOptions,
  EmbeddedStage,
  EmbeddedStageInfo,
  TransactionalWatermarkStore,
} from './embedded-runner.js';
export { classifyEmbeddedFailure } from './classify.js';
export {
  SUMMARY_RUN_ID,
  SUMMARY_SOURCE_TABLE,
  SUMMARY_WATERMARK,
  WATERMARK_PROPERTY_PREFIX,
  coldtierSummary,
  coldtierTableProperties,
  committedWatermarkOf,
  watermarkPropertyKey,
} from './summary.js';
export { TARGET_TABLE_PROPERTIES, partitionSpecFor, prepareTarget, selectColumns, targetIdentifier } from './target-table.js';
export type { PreparedTarget } from './target-table.js';
export { cleanOrphanDataFiles, findOrphanDataFiles } from './orphans.js';
export type { OrphanDataFile, OrphanScanOptions } from './orphans.js';
