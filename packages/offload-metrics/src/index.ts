/**
 * @coldtier/offload-metrics — the reference's Prometheus metrics on a registry
 * the caller owns, a recorder fed by the orchestrator's events, and an exporter.
 */
export {
  METRIC_NAMES,
  REFERENCE_METRIC_NAMES,
  DURATION_BUCKETS,
  CYCLE_DURATION_BUCKETS,
  ROWS_PER_SECOND_QUANTILES,
  CYCLE_STATUSES,
} from './names.js';
export type { MetricName } from './names.js';

export { createOffloadMetrics } from './metrics.js';
export type { OffloadMetrics, OffloadMetricsOptions, MetricsTable, QuantileWindow, TtlSource } from './metrics.js';
export type { FreshnessTracker, LagSource } from './freshness.js';
export { recordOffloadEvents } from './recorder.js';
export { MAINTENANCE_METRIC_NAMES, createMaintenanceMetrics, recordMaintenance } from './maintenance.js';
export type { MaintenanceMetrics } from './maintenance.js';

export { renderOpenMetrics, OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE } from './openmetrics.js';
export { startMetricsServer, prefersOpenMetrics, MetricsServerError } from './server.js';
export type { MetricsServer, MetricsServerOptions, RouteHandler, RouteResponse } from './server.js';
