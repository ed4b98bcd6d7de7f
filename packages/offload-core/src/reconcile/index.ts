/**
 * Reconciliation: per-day (or per-hour) row counts of a source table in
 * ClickHouse against its Iceberg table, from manifests where possible.
 */
export { reconcile, MAX_RANGES } from './reconcile.js';
export type { ReconcileOptions, ReconcileResult, ReconcileRange, ReconcileTotals, RangeStatus } from './reconcile.js';
export { ClickHouseDataReader } from './data-reader.js';
export type { IcebergDataReader, DataReadRequest, DataBucket } from './data-reader.js';
export { ReconcileError } from './errors.js';
export type { Granularity } from './buckets.js';
