import type { CycleStatus } from '@coldtier/offload-core';

/**
 * Every metric Coldtier exports. The first twelve are the reference's public
 * contract (Prometheus rules and Grafana dashboards query them): never rename
 * one. Rule and dashboard generators import these constants instead of
 * spelling names again.
 */
export const METRIC_NAMES = {
  rowsTotal: 'offload_rows_total',
  cyclesTotal: 'offload_cycles_total',
  errorsTotal: 'offload_errors_total',
  lagMinutes: 'offload_lag_minutes',
  watermarkTimestampSeconds: 'watermark_timestamp_seconds',
  tablesConfigured: 'offload_tables_configured',
  lastSuccessTimestamp: 'offload_last_success_timestamp',
  lastFailureTimestamp: 'offload_last_failure_timestamp',
  durationSeconds: 'offload_duration_seconds',
  cycleDurationSeconds: 'offload_cycle_duration_seconds',
  rowsPerSecond: 'offload_rows_per_second',
  info: 'offload_info',
  /**
   * Added: duration of the last finished cycle. Alert on this gauge; the
   * reference's `offload_cycle_duration_seconds > 600` compared a histogram's
   * bare name, which no exporter emits (defect 1).
   */
  lastCycleDurationSeconds: 'offload_last_cycle_duration_seconds',
  /**
   * Added: rows per second of each table's last offload that wrote rows. Alert
   * on this gauge; `rate(offload_rows_total[5m])` is zero between cycles
   * (defect 4).
   */
  lastRowsPerSecond: 'offload_last_rows_per_second',
  /**
   * Added: rows written by each table's last offload that wrote rows. With
   * `offload_last_batch_duration_seconds` it judges a batch against the
   * acceptable duration for its volume, where rows/s on a tiny batch
   * says nothing about speed.
   */
  lastBatchRows: 'offload_last_batch_rows',
  /** Added: job duration of each table's last offload that wrote rows (the same run as `offload_last_batch_rows`). */
  lastBatchDurationSeconds: 'offload_last_batch_duration_seconds',
  /**
   * Added: scheduler ticks skipped because the previous cycle was still
   * running (cycles never overlap; this says how often one would have).
   */
  skippedTicksTotal: 'offload_skipped_ticks_total',
  /**
   * Added: seconds until ClickHouse may delete, by its row TTL, the oldest
   * row not yet in Iceberg; `+Inf` when none is waiting, absent for tables
   * without row TTL. Recomputed at every scrape.
   */
  ttlHeadroomSeconds: 'offload_ttl_headroom_seconds',
  /** Added: `ttlGuard: stop-merges` actions by table, action (stop, start) and outcome (done, refused, failed). */
  ttlGuardActionsTotal: 'offload_ttl_guard_actions_total',
} as const;

export type MetricName = (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];

/** The reference metrics, in the order of its table. */
export const REFERENCE_METRIC_NAMES: readonly MetricName[] = [
  METRIC_NAMES.rowsTotal,
  METRIC_NAMES.cyclesTotal,
  METRIC_NAMES.errorsTotal,
  METRIC_NAMES.lagMinutes,
  METRIC_NAMES.watermarkTimestampSeconds,
  METRIC_NAMES.tablesConfigured,
  METRIC_NAMES.lastSuccessTimestamp,
  METRIC_NAMES.lastFailureTimestamp,
  METRIC_NAMES.durationSeconds,
  METRIC_NAMES.cycleDurationSeconds,
  METRIC_NAMES.rowsPerSecond,
  METRIC_NAMES.info,
];

/** `le` boundaries of `offload_duration_seconds` (the reference's, `+Inf` implied). */
export const DURATION_BUCKETS: readonly number[] = [1, 5, 10, 30, 60, 120, 300, 600];

/** `le` boundaries of `offload_cycle_duration_seconds` (the reference's, `+Inf` implied). */
export const CYCLE_DURATION_BUCKETS: readonly number[] = [5, 10, 15, 30, 60, 120, 300, 600, 900];

/** Quantiles of `offload_rows_per_second`, the ones the reference documented. */
export const ROWS_PER_SECOND_QUANTILES: readonly number[] = [0.5, 0.9, 0.99];

/** Values of `offload_cycles_total{status}`. */
export const CYCLE_STATUSES: readonly CycleStatus[] = ['success', 'partial', 'failed'];
