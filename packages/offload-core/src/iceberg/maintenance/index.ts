/**
 * Table maintenance, as Iceberg's Spark procedures do it: compaction of
 * small files (`rewrite_data_files`), manifest rewriting, orphan cleanup.
 * Snapshot expiry and the `replace` commit are transaction actions
 * (`../transaction/`); these compose them.
 */
export { ClickHouseFileRewriter, compactTable } from './compaction.js';
export type { ClickHouseFileRewriterOptions, CompactionOptions, CompactionReport, DataFileRewriter } from './compaction.js';
export { compactionPolicyOf, planCompaction } from './compaction-plan.js';
export type { CompactionGroup, CompactionPolicy } from './compaction-plan.js';
export { DEFAULT_ORPHAN_GRACE_MS, cleanOrphanFiles } from './orphans.js';
export type { OrphanCleanupOptions, OrphanReport } from './orphans.js';
export { MAINTENANCE_ACTIONS, maintainTable, tableStats } from './maintain.js';
export type { ActionOutcome, MaintainOptions, MaintenanceAction, MaintenanceProgress, MaintenanceReport, TableStats } from './maintain.js';
