export { configSchema, tableSchema, LAYERS, isObjectStoreLocation } from './schema.js';
export type {
  ConfigInput,
  EmbeddedRunnerConfig,
  MaintenanceConfig,
  Layer,
  OffloadConfig,
  PartitionField,
  RestCatalogConfig,
  RestCatalogSecret,
  S3StorageConfig,
  RetryPolicy,
  RunnerConfig,
  SparkRunnerConfig,
  TableConfig,
  TableConfigInput,
} from './schema.js';
export { parseConfig, loadConfigFile, formatPath } from './load.js';
export { resolveDatabaseUrl, redactUrl } from './database-url.js';
