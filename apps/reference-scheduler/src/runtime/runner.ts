import { resolve } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import {
  EmbeddedIcebergRunner,
  FilesystemCatalog,
  OffloadError,
  PostgresWatermarkStore,
  RestCatalog,
  SparkJobRunner,
  SqlCatalog,
  bearerToken,
  clientCredentials,
  fileIOFor,
  isObjectStoreLocation,
  noAuth,
} from '@coldtier/offload-core';
import type {
  Catalog,
  EmbeddedRunnerConfig,
  JobRunner,
  Logger,
  IcebergCatalogSettings,
  OffloadConfig,
  ParquetExportMode,
  RestAuth,
  RestCatalogConfig,
  RestCatalogSecret,
  S3StorageConfig,
  S3StorageOptions,
  SparkRunnerConfig,
  StorageOptions,
} from '@coldtier/offload-core';
import type { AppPool } from './pg.js';

/** What the runners are built from besides the config. */
export interface RunnerDeps {
  /** The source; the embedded runner reads through it (the Spark job connects itself). */
  readonly clickhouse: ClickHouseClient | undefined;
  readonly logger: Logger;
  /** This process's environment; the Spark job gets a few basics plus `passEnv`. */
  readonly env: NodeJS.ProcessEnv;
  /** The watermark store's database; the SQL catalog lives there too. */
  readonly pool?: AppPool;
}

/** Variables every job needs to find its tools, whatever `passEnv` says. */
const BASE_ENV = ['PATH', 'HOME', 'LANG', 'TZ', 'JAVA_HOME', 'SPARK_HOME', 'PYSPARK_PYTHON', 'DOCKER_HOST'];

/** The job runner the config names. */
export function createRunner(config: OffloadConfig, deps: RunnerDeps): JobRunner {
  const runner = config.runner;
  switch (runner.kind) {
    case 'spark':
      return sparkRunner(config, runner, deps);
    case 'embedded':
      return embeddedRunner(runner, config.clickhouse.url === 'embedded', config, deps);
  }
}

function requireClickHouse(deps: RunnerDeps): ClickHouseClient {
  if (!deps.clickhouse) throw new OffloadError('internal', 'the runner needs a ClickHouse client');
  return deps.clickhouse;
}

function embeddedRunner(runner: EmbeddedRunnerConfig, inProcessClickHouse: boolean, settings: CatalogSettings, deps: RunnerDeps): EmbeddedIcebergRunner {
  const clickhouse = requireClickHouse(deps);
  const catalog = createCatalog(runner, deps.pool, settings);
  const common = {
    clickhouse,
    catalog,
    targetFileSizeBytes: runner.targetFileSizeBytes,
    exportMode: runner.exportMode ?? defaultExportMode(runner, inProcessClickHouse, settings),
    storage: storageOptions(settings),
    logger: deps.logger,
  };
  if (!(catalog instanceof SqlCatalog) || !deps.pool) return new EmbeddedIcebergRunner(common);
  return new EmbeddedIcebergRunner({ ...common, sharedTransaction: { store: new PostgresWatermarkStore({ pool: deps.pool }) } });
}

/**
 * An in-process ClickHouse writes the Parquet files itself wherever it
 * reaches the warehouse (a local one, or S3 through a named collection);
 * otherwise, and for a server, the rows stream through Coldtier.
 */
function defaultExportMode(runner: EmbeddedRunnerConfig, inProcessClickHouse: boolean, settings: CatalogSettings): ParquetExportMode {
  const reachable = !isObjectStoreLocation(runner.warehouse) || settings.storage.s3?.clickhouse !== undefined;
  return inProcessClickHouse && reachable ? 'server-side' : 'stream';
}

/** The catalog keys both runner kinds share. */
type CatalogConfig = Pick<EmbeddedRunnerConfig, 'warehouse' | 'catalog' | 'catalogName'>;

/** What a catalog is built from besides the runner section: the storage settings and the REST catalog's secret. */
export type CatalogSettings = Pick<OffloadConfig, 'storage' | 'restCatalogSecret'>;

/**
 * The Iceberg catalog the runner config names, its FileIO chosen
 * by the warehouse's scheme; the SQL one lives in the watermark store's database.
 */
export function createCatalog(runner: CatalogConfig, pool: AppPool | undefined, settings: CatalogSettings): Catalog {
  const objectStore = isObjectStoreLocation(runner.warehouse);
  const warehouse = objectStore ? runner.warehouse : resolve(runner.warehouse);
  const io = fileIOFor(warehouse, storageOptions(settings));
  const catalog = runner.catalog;
  if (typeof catalog === 'object') {
    return new RestCatalog({
      uri: catalog.uri,
      ...(catalog.warehouse ? { warehouse: catalog.warehouse } : {}),
      io,
      auth: restAuth(catalog, settings.restCatalogSecret),
      timeoutMs: catalog.timeoutSeconds * 1000,
    });
  }
  if (catalog === 'filesystem') return new FilesystemCatalog({ warehouse, io });
  if (!pool) throw new OffloadError('config', 'runner.catalog "sql" needs the watermark store database (watermarkStore.urlEnv)');
  return new SqlCatalog({ name: runner.catalogName, pool, io, warehouse });
}

/** The storage settings of the FileIOs and of ClickHouse's own access to the warehouse. */
export function storageOptions(settings: CatalogSettings): StorageOptions {
  const s3 = settings.storage.s3;
  return s3 ? { s3: s3Options(s3) } : {};
}

function s3Options(s3: S3StorageConfig): S3StorageOptions {
  return {
    ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
    region: s3.region,
    pathStyle: s3.pathStyle,
    partSizeBytes: s3.partSizeBytes,
    partsInFlight: s3.partsInFlight,
    maxAttempts: s3.maxAttempts,
    requestTimeoutMs: s3.requestTimeoutSeconds * 1000,
    conditionalWrites: s3.conditionalWrites,
    ...(s3.stagingDir ? { stagingDir: resolve(s3.stagingDir) } : {}),
    ...(s3.clickhouse ? { clickhouse: { namedCollection: s3.clickhouse.namedCollection, ...(s3.clickhouse.endpoint ? { endpoint: s3.clickhouse.endpoint } : {}) } } : {}),
  };
}

function restAuth(catalog: RestCatalogConfig, secret: RestCatalogSecret | undefined): RestAuth {
  if (!secret) return noAuth;
  if (secret.kind === 'token') return bearerToken(secret.token);
  return clientCredentials({
    tokenUri: catalog.oauth2ServerUri ?? `${catalog.uri.replace(/\/+$/, '')}/v1/oauth/tokens`,
    clientId: secret.clientId,
    clientSecret: secret.clientSecret,
    scope: catalog.scope,
    timeoutMs: catalog.timeoutSeconds * 1000,
  });
}

function sparkRunner(config: OffloadConfig, runner: SparkRunnerConfig, deps: RunnerDeps): SparkJobRunner {
  const env: Record<string, string> = {};
  for (const name of [...BASE_ENV, ...runner.passEnv]) {
    const value = deps.env[name];
    if (value !== undefined) env[name] = value;
  }
  const { url, username, password } = config.clickhouse;
  if (url === 'embedded') {
    throw new OffloadError('config', 'runner.kind "spark" reads ClickHouse over HTTP: set clickhouse.url to a server (http://host:8123), not "embedded"');
  }
  return new SparkJobRunner({
    command: runner.command,
    killGraceMs: runner.killGraceSeconds * 1000,
    env,
    clickhouse: { url, user: username, password },
    catalog: sparkCatalogSettings(runner, config.databaseUrl),
    // Coldtier creates and evolves the table itself, as the embedded runner would, and reads its watermark.
    ...(runner.prepareTable ? { target: { clickhouse: requireClickHouse(deps), catalog: createCatalog(runner, deps.pool, config) } } : {}),
    logger: deps.logger,
  });
}

/**
 * The job's catalog (`spark.sql.catalog.<catalogName>.*`, set by the job from
 * these flags) from the same keys the embedded runner reads. A new catalog
 * kind (REST) adds its case here and its `--catalog-type` in offload_job.py.
 */
export function sparkCatalogSettings(runner: CatalogConfig, databaseUrl: string | undefined): IcebergCatalogSettings {
  if (typeof runner.catalog === 'object' || isObjectStoreLocation(runner.warehouse)) {
    throw new OffloadError('config', 'runner.kind "spark" writes through a filesystem or sql catalog on a local or shared filesystem warehouse; use the embedded runner for REST catalogs and object storage');
  }
  const warehouse = resolve(runner.warehouse);
  switch (runner.catalog) {
    case 'filesystem':
      return { type: 'hadoop', name: runner.catalogName, warehouse };
    case 'sql': {
      if (databaseUrl === undefined) throw new OffloadError('config', 'runner.catalog "sql" needs the watermark store database (watermarkStore.urlEnv)');
      const pg = new URL(databaseUrl);
      return {
        type: 'jdbc',
        name: runner.catalogName,
        warehouse,
        uri: `jdbc:postgresql://${pg.host}${pg.pathname}${pg.search}`,
        user: decodeURIComponent(pg.username) || undefined,
        password: decodeURIComponent(pg.password) || undefined,
      };
    }
  }
}
