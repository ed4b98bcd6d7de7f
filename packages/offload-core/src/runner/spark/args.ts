import { cursorToJson, formatMicros } from '../../watermark/cursor.js';
import type { OffloadJob } from '../contract.js';

/** Environment variable that carries the ClickHouse password to the job; never put on the command line. */
export const CLICKHOUSE_PASSWORD_ENV = 'COLDTIER_CLICKHOUSE_PASSWORD';
/** Environment variable that carries the JDBC catalog's password to the job. */
export const CATALOG_PASSWORD_ENV = 'COLDTIER_CATALOG_PASSWORD';

/** Where the job reads from: ClickHouse's HTTP interface (the job reads its Parquet output). */
export interface ClickHouseHttpSettings {
  /** e.g. `http://clickhouse:8123`. Must not embed a password. */
  readonly url: string;
  readonly user?: string | undefined;
  /** Passed in `COLDTIER_CLICKHOUSE_PASSWORD`, never as an argument (arguments are visible in `ps`). */
  readonly password?: string | undefined;
}

/** Where the job writes to; omit to rely on catalog settings already given to Spark (`--conf`). */
export interface IcebergCatalogSettings {
  readonly type: 'hadoop' | 'jdbc';
  /** Spark catalog name the target is resolved in; the job defaults it to `coldtier`. */
  readonly name?: string | undefined;
  /** Warehouse root (a path or URI). */
  readonly warehouse: string;
  /** JDBC catalog URL (type `jdbc` only). */
  readonly uri?: string | undefined;
  readonly user?: string | undefined;
  /** Passed in `COLDTIER_CATALOG_PASSWORD`, never as an argument. */
  readonly password?: string | undefined;
}

export interface JobConnections {
  readonly clickhouse?: ClickHouseHttpSettings | undefined;
  readonly catalog?: IcebergCatalogSettings | undefined;
}

/** What the runner worked out before the launch (see `prepareSparkTarget`). */
export interface PreparedJob {
  /** SELECT expressions casting each column to its Iceberg type's Parquet form, aliased. */
  readonly select: readonly string[];
}

/**
 * The job's command-line arguments: the reference's flag names
 * (`--source-table`, `--target-table`, `--timestamp-col`, `--sequence-col`,
 * `--layer`, `--columns`) plus the window and run identity Coldtier adds.
 * Every value is its own argv entry, so nothing is ever parsed by a shell.
 */
export function buildJobArgs(job: OffloadJob, connections: JobConnections = {}, prepared?: PreparedJob): string[] {
  const { table, window } = job;
  const after = cursorToJson(window.after);
  const args = [
    '--run-id', job.runId,
    '--source-table', table.source,
    '--target-table', table.target,
    '--timestamp-col', table.timestampColumn,
    '--sequence-col', table.sequenceColumn,
    '--tie-breaker-cols', table.tieBreakerColumns.join(','),
    '--layer', table.layer,
  ];
  if (table.columns !== 'all') args.push('--columns', table.columns.join(','));
  if (prepared) args.push('--select', JSON.stringify(prepared.select));
  if (table.final) args.push('--final');
  args.push(
    '--after-timestamp', after.timestamp,
    '--after-sequence', after.sequence,
    '--after-tie-breakers', JSON.stringify(after.tieBreakers),
    '--until', formatMicros(window.untilMicros),
    '--partition-by', JSON.stringify(table.partitionBy),
  );
  const { clickhouse, catalog } = connections;
  if (clickhouse) {
    args.push('--clickhouse-url', clickhouse.url);
    if (clickhouse.user !== undefined) args.push('--clickhouse-user', clickhouse.user);
  }
  if (catalog) {
    args.push('--catalog-type', catalog.type, '--catalog-warehouse', catalog.warehouse);
    if (catalog.name !== undefined) args.push('--catalog-name', catalog.name);
    if (catalog.uri !== undefined) args.push('--catalog-uri', catalog.uri);
    if (catalog.user !== undefined) args.push('--catalog-user', catalog.user);
  }
  return args;
}

/** The secrets of `connections`, as the environment variables the job reads them from. */
export function secretEnv(connections: JobConnections): Record<string, string> {
  const env: Record<string, string> = {};
  if (connections.clickhouse?.password !== undefined) env[CLICKHOUSE_PASSWORD_ENV] = connections.clickhouse.password;
  if (connections.catalog?.password !== undefined) env[CATALOG_PASSWORD_ENV] = connections.catalog.password;
  return env;
}
