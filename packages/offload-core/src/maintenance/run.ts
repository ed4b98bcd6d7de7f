import { systemClock, type Clock } from '../clock.js';
import type { MaintenanceConfig, TableConfig } from '../config/index.js';
import { CycleStop } from '../cycle/stop.js';
import { LeaseKeeper } from '../cycle/lease.js';
import { LeaseUnavailableError, messageOf } from '../errors.js';
import type { Catalog } from '../iceberg/catalog/catalog.js';
import type { DataFileRewriter } from '../iceberg/maintenance/compaction.js';
import { maintainTable, type MaintenanceProgress, type MaintenanceReport } from '../iceberg/maintenance/maintain.js';
import { silentLogger, type Logger } from '../logger.js';
import { targetIdentifier } from '../runner/embedded/target-table.js';
import type { WatermarkStore } from '../watermark/store.js';

export interface TableMaintenanceOptions {
  readonly store: WatermarkStore;
  readonly catalog: Catalog;
  readonly table: TableConfig;
  readonly config: MaintenanceConfig;
  /** Writes compacted files; without one, compaction is skipped (reported as such). */
  readonly rewriter?: DataFileRewriter;
  readonly leaseOwner: string;
  /** Default 5 minutes; renewed while maintenance runs. */
  readonly leaseTtlMs?: number;
  readonly dryRun?: boolean;
  /** Stops maintenance between steps (the daemon's next cycle is due). */
  readonly signal?: AbortSignal;
  readonly onProgress?: (event: MaintenanceProgress) => void;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/**
 * `busy`: an offload (or another maintenance) of the table holds its lease;
 * `absent`: the Iceberg table does not exist yet (nothing offloaded). Nothing was done.
 */
export type TableMaintenanceResult =
  | { readonly status: 'done'; readonly report: MaintenanceReport }
  | { readonly status: 'busy' | 'absent'; readonly reason: string };

const DEFAULT_LEASE_TTL_MS = 5 * 60 * 1000;

/**
 * Maintains a configured table's Iceberg target under the table's offload
 * lease, so it never overlaps an offload of that table: if the lease is
 * held the table is `busy` and skipped. The lease is renewed while
 * maintenance runs and released at the end; losing it stops maintenance.
 */
export async function runTableMaintenance(options: TableMaintenanceOptions): Promise<TableMaintenanceResult> {
  const { store, table, config } = options;
  const logger = options.logger ?? silentLogger;
  const ttlMs = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  const target = targetIdentifier(table);
  if (!(await options.catalog.tableExists(target))) return { status: 'absent', reason: `${table.target} has not been created yet` };
  let lease;
  try {
    lease = await store.acquireLease(table.name, options.leaseOwner, ttlMs);
  } catch (error) {
    if (error instanceof LeaseUnavailableError) return { status: 'busy', reason: error.message };
    throw error;
  }
  const controller = new AbortController();
  const follow = (): void => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', follow, { once: true });
  if (options.signal?.aborted) follow();
  const keeper = new LeaseKeeper(store, lease, ttlMs, logger, (lost) => controller.abort(new CycleStop('lease_lost', `lease lost: ${lost.message}`)));
  keeper.keepFor(Infinity);
  try {
    const report = await maintainTable(options.catalog, target, {
      actions: config.actions,
      compaction: { minQuietMs: config.compactQuietMinutes * 60_000 },
      orphanGraceMs: config.orphanGraceHours * 3_600_000,
      dryRun: options.dryRun ?? false,
      signal: controller.signal,
      clock: options.clock ?? systemClock,
      logger,
      ...(options.rewriter ? { rewriter: options.rewriter } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    return { status: 'done', report };
  } finally {
    options.signal?.removeEventListener('abort', follow);
    const current = await keeper.stop();
    await store.releaseLease(current).catch((error: unknown) => {
      logger.warn('lease release failed; it lapses at its expiry', { table: table.name, error: messageOf(error) });
    });
  }
}
