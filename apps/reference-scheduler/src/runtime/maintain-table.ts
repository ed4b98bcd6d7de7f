import { ClickHouseFileRewriter, OffloadError, messageOf, runTableMaintenance } from '@coldtier/offload-core';
import type { MaintenanceProgress, TableConfig, TableMaintenanceResult } from '@coldtier/offload-core';
import type { App } from './app.js';
import { openBoundaryViews } from './boundary.js';
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
  const result = await runTableMaintenance({
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
  // A view over both tiers pins the metadata file of the table's last offload; after
  // maintenance it moves to the maintained table, since expiry may delete files that only
  // the older snapshots list (the boundary itself is unchanged: the marker is a table property).
  if (result.status === 'done' && options.dryRun !== true) {
    const views = await openBoundaryViews(app);
    await views.refresh(table, options.signal).catch((error: unknown) => {
      app.logger.warn('could not move the view over both tiers after maintenance', { table: table.name, error: messageOf(error) });
    });
  }
  return result;
}
