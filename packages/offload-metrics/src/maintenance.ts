import type { MaintenanceReport } from '@coldtier/offload-core';
import { Counter, Gauge, Registry } from 'prom-client';

/**
 * Table maintenance metrics (issue 12). Kept apart from the reference's
 * `METRIC_NAMES`, which are a frozen contract; rules and dashboards import
 * these constants.
 */
export const MAINTENANCE_METRIC_NAMES = {
  runsTotal: 'offload_maintenance_runs_total',
  lastDurationSeconds: 'offload_maintenance_last_duration_seconds',
  bytesRewrittenTotal: 'offload_maintenance_bytes_rewritten_total',
  lastSuccessTimestamp: 'offload_maintenance_last_success_timestamp',
  tableDataFiles: 'offload_table_data_files',
  tableMaxFilesPerPartition: 'offload_table_max_files_per_partition',
  tableManifests: 'offload_table_manifests',
  tableSnapshots: 'offload_table_snapshots',
} as const;

export interface MaintenanceMetrics {
  readonly registry: Registry;
  readonly runsTotal: Counter<'table' | 'action' | 'status'>;
  readonly lastDurationSeconds: Gauge<'table' | 'action'>;
  readonly bytesRewrittenTotal: Counter<'table'>;
  readonly lastSuccessTimestamp: Gauge<'table'>;
  readonly tableDataFiles: Gauge<'table'>;
  readonly tableMaxFilesPerPartition: Gauge<'table'>;
  readonly tableManifests: Gauge<'table'>;
  readonly tableSnapshots: Gauge<'table'>;
}

/**
 * Creates the maintenance metrics on `registry` (a new one by default; once
 * per registry: prom-client refuses duplicates). The daemon passes the
 * offload metrics' registry so one scrape serves both.
 */
export function createMaintenanceMetrics(registry: Registry = new Registry()): MaintenanceMetrics {
  const registers = [registry];
  const n = MAINTENANCE_METRIC_NAMES;
  const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames: ['table'] as const, registers });
  return {
    registry,
    runsTotal: new Counter({ name: n.runsTotal, help: 'Maintenance actions run, by table, action and status (success, failed, skipped)', labelNames: ['table', 'action', 'status'] as const, registers }),
    lastDurationSeconds: new Gauge({ name: n.lastDurationSeconds, help: 'Duration of the last run of each maintenance action', labelNames: ['table', 'action'] as const, registers }),
    bytesRewrittenTotal: new Counter({ name: n.bytesRewrittenTotal, help: 'Bytes of data files rewritten by compaction', labelNames: ['table'] as const, registers }),
    lastSuccessTimestamp: gauge(n.lastSuccessTimestamp, 'Unix time of the last maintenance of the table in which no action failed'),
    tableDataFiles: gauge(n.tableDataFiles, 'Live data files of the Iceberg table after its last maintenance'),
    tableMaxFilesPerPartition: gauge(n.tableMaxFilesPerPartition, 'Most data files in one partition after the last maintenance'),
    tableManifests: gauge(n.tableManifests, 'Manifests of the current snapshot after the last maintenance'),
    tableSnapshots: gauge(n.tableSnapshots, 'Snapshots in the table metadata after the last maintenance'),
  };
}

/** Records one table's maintenance report under its logical table name. */
export function recordMaintenance(metrics: MaintenanceMetrics, table: string, report: MaintenanceReport, finishedAt: Date): void {
  for (const outcome of report.actions) {
    metrics.runsTotal.inc({ table, action: outcome.action, status: outcome.status });
    metrics.lastDurationSeconds.set({ table, action: outcome.action }, outcome.durationSeconds);
    if (outcome.action === 'compact' && outcome.status === 'success') metrics.bytesRewrittenTotal.inc({ table }, outcome.bytes);
  }
  if (report.actions.every((a) => a.status !== 'failed')) metrics.lastSuccessTimestamp.set({ table }, finishedAt.getTime() / 1000);
  metrics.tableDataFiles.set({ table }, report.after.dataFiles);
  metrics.tableMaxFilesPerPartition.set({ table }, report.after.maxFilesPerPartition);
  metrics.tableManifests.set({ table }, report.after.manifests);
  metrics.tableSnapshots.set({ table }, report.after.snapshots);
}
