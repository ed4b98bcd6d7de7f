import { ClickHouseFileRewriter, OffloadError, runTableMaintenance } from '@coldtier/offload-core';
import type { MaintenanceProgress, TableConfig, TableMaintenanceResult } from '@coldtier/offload-core';
import type { App } from './app.js';
import { createCatalog, exportModeOf, storageOptions } from './runner.js';

/** One table's maintenance as the daemon does it, under its lease. */
export async function maintainOne(
  app: App,
  table: TableConfig,
  options: { readonly owner: string; readonly dryRun?: boolean; readonly onProgress?: (event: MaintenanceProgress) => void; readonly signal?: AbortSignal },
): Promise<TableMaintenanceResult> {
  const runner = app.config.runner;
  if (runner.kind !== 'embedded') {
    throw new OffloadError('config', 'maintain works on the embedded runner\'s Iceberg catalog; with runner.kind "spark" use the Spark procedures');
  }
  const catalog = createCatalog(runner, await app.pool(), app.config);
  // Compaction has ClickHouse read and write the table's files: only where it reaches them, as for the server-side export.
  const rewriter =
    exportModeOf(runner, app.config) === 'server-side'
      ? new ClickHouseFileRewriter(await app.clickhouse(), { io: catalog.io, storage: storageOptions(app.config) })
      : undefined;
  return runTableMaintenance({
    store: await app.store(),
    catalog,
    table,
    config: app.config.maintenance,
    leaseOwner: options.owner,
    dryRun: options.dryRun ?? false,
    logger: app.logger,
    ...(rewriter ? { rewriter } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
