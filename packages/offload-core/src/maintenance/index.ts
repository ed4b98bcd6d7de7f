/** Maintenance of a configured table's Iceberg target under its offload lease (the daemon's schedule and `coldtier maintain`). */
export { runTableMaintenance } from './run.js';
export type { TableMaintenanceOptions, TableMaintenanceResult } from './run.js';
