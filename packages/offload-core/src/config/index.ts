export { configSchema, tableSchema, LAYERS } from './schema.js';
export type {
  ConfigInput,
  EmbeddedRunnerConfig,
  MaintenanceConfig,
  Layer,
  OffloadConfig,
  PartitionField,
  RetryPolicy,
  RunnerConfig,
  SparkRunnerConfig,
  TableConfig,
  TableConfigInput,
} from './schema.js';
export { parseConfig, loadConfigFile, formatPath } from './load.js';
export { resolveDatabaseUrl, redactUrl } from './database-url.js';
