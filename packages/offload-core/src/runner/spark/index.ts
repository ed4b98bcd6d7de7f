export { SparkJobRunner } from './spark-runner.js';
export type { SparkJobRunnerOptions } from './spark-runner.js';
export { buildJobArgs, secretEnv, CLICKHOUSE_PASSWORD_ENV, CATALOG_PASSWORD_ENV } from './args.js';
export type { ClickHouseJdbcSettings, IcebergCatalogSettings, JobConnections } from './args.js';
export { ResultCollector, checkReportedResult, RESULT_PREFIX } from './result.js';
export type { ReportedResult } from './result.js';
export { runProcessGroup } from './process-group.js';
export type { SpawnFunction, OutputStream, ProcessGroupOptions, ProcessGroupOutcome } from './process-group.js';
export { OutputTail, LineSplitter, MAX_LINE_CHARS } from './output.js';
