import { messageOf } from '@coldtier/offload-core';
import type { Logger, TableConfig, TableMaintenanceResult } from '@coldtier/offload-core';
import { recordMaintenance, type MaintenanceMetrics } from '@coldtier/offload-metrics';

export interface MaintenanceScheduleOptions {
  readonly tables: readonly TableConfig[];
  /** Time between maintenance runs of a table (`maintenance.intervalHours`). */
  readonly intervalMs: number;
  /** Maintenance stops this long before the next cycle is due, so that cycle finds every lease free. */
  readonly marginMs: number;
  /** Maintains one table under its lease. */
  readonly run: (table: TableConfig, signal: AbortSignal) => Promise<TableMaintenanceResult>;
  readonly metrics: MaintenanceMetrics;
  readonly logger: Logger;
  readonly now?: () => number;
}

/**
 * The daemon's maintenance: after a cycle, the tables whose maintenance is
 * due (first after the first cycle, then every interval) are maintained one
 * at a time in the background, each under its offload lease, and stopped
 * before the next cycle is due. It never delays a cycle: a table still
 * being maintained when a cycle starts is skipped by that cycle
 * (`lease_held`) only if the stop came too late, and a table an offload is
 * holding is left for the next gap.
 */
export class MaintenanceSchedule {
  readonly #options: MaintenanceScheduleOptions;
  readonly #lastRun = new Map<string, number>();
  readonly #now: () => number;
  #running: Promise<void> | undefined;
  #controller: AbortController | undefined;

  constructor(options: MaintenanceScheduleOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Starts due maintenance in the background, to stop by `nextCycleAt` minus the margin. */
  afterCycle(nextCycleAt: Date | null): void {
    if (this.#running) return;
    const now = this.#now();
    const due = this.#options.tables.filter((t) => now - (this.#lastRun.get(t.name) ?? -Infinity) >= this.#options.intervalMs);
    const budgetMs = nextCycleAt === null ? Infinity : nextCycleAt.getTime() - this.#options.marginMs - now;
    if (due.length === 0 || budgetMs <= 0) return;
    const controller = new AbortController();
    this.#controller = controller;
    const timer = Number.isFinite(budgetMs) ? setTimeout(() => controller.abort(new Error('the next cycle is due')), budgetMs) : undefined;
    this.#running = this.#maintain(due, controller.signal).finally(() => {
      clearTimeout(timer);
      this.#running = undefined;
      this.#controller = undefined;
    });
  }

  /** Stops maintenance under way (between steps) and waits for it. */
  async stop(): Promise<void> {
    this.#controller?.abort(new Error('the scheduler is stopping'));
    await this.#running;
  }

  async #maintain(tables: readonly TableConfig[], signal: AbortSignal): Promise<void> {
    const { logger, metrics } = this.#options;
    for (const table of tables) {
      if (signal.aborted) return;
      try {
        const result = await this.#options.run(table, signal);
        // Busy or not created yet: try again after the next cycle.
        if (result.status !== 'done') continue;
        this.#lastRun.set(table.name, this.#now());
        recordMaintenance(metrics, table.name, result.report, new Date(this.#now()));
        const failed = result.report.actions.filter((a) => a.status === 'failed').map((a) => a.action);
        logger.info(`Maintenance of ${table.name} done${failed.length > 0 ? `; failed: ${failed.join(', ')}` : ''}`, {
          table: table.name,
          dataFiles: result.report.after.dataFiles,
          snapshots: result.report.after.snapshots,
        });
      } catch (error) {
        if (signal.aborted) return;
        this.#lastRun.set(table.name, this.#now());
        metrics.runsTotal.inc({ table: table.name, action: 'all', status: 'failed' });
        logger.warn(`Maintenance of ${table.name} failed`, { table: table.name, error: messageOf(error) });
      }
    }
  }
}
