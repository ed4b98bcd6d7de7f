import { z } from 'zod';
import { isIdentifier } from '../identifiers/index.js';
import { isS3Location } from '../iceberg/io/s3.js';

const identifier = z
  .string({ error: 'expected an identifier string' })
  .refine(isIdentifier, {
    error: (issue) =>
      `invalid identifier ${JSON.stringify(issue.input)}: expected letters, digits and underscores, not starting with a digit`,
  });

const qualifiedName = (what: string) =>
  z.string({ error: `expected "${what}"` }).refine(
    (value) => {
      const parts = value.split('.');
      return parts.length === 2 && parts.every(isIdentifier);
    },
    { error: (issue) => `invalid name ${JSON.stringify(issue.input)}: expected "${what}" of plain identifiers` },
  );

export const LAYERS = ['bronze', 'silver', 'gold'] as const;
export type Layer = (typeof LAYERS)[number];

/** Bounds keep every duration a valid timer and date (Node timers stop at 2^31 - 1 ms, about 24.8 days). */
const positiveSeconds = (max: number) =>
  z.number({ error: 'expected a number of seconds' }).positive({ error: 'must be > 0' }).max(max, { error: `must be at most ${max} seconds` });
const DAY_SECONDS = 24 * 60 * 60;

/** Iceberg partition transforms a table may be partitioned by. */
const partitionField = z.strictObject({
  column: identifier,
  transform: z.union([
    z.enum(['identity', 'year', 'month', 'day', 'hour']),
    z.string().regex(/^(bucket|truncate)\[[1-9][0-9]*\]$/, { error: 'expected identity|year|month|day|hour|bucket[N]|truncate[W]' }),
  ]),
});

export const tableSchema = z.strictObject({
  /** Logical name used in metrics, logs and the watermark store; defaults to the source table's name. */
  name: identifier.optional(),
  /** `database.table` in ClickHouse. */
  source: qualifiedName('database.table'),
  /** `namespace.table` in Iceberg. */
  target: qualifiedName('namespace.table'),
  layer: z.enum(LAYERS, { error: (issue) => `unknown layer ${JSON.stringify(issue.input)}: expected bronze, silver or gold` }),
  timestampColumn: identifier,
  sequenceColumn: identifier,
  /**
   * Further columns that, after (timestamp, sequence), make the cursor identify
   * one row. Needed when (timestamp, sequence) is not unique, e.g. OHLCV bars
   * keyed by (window_start, symbol).
   */
  tieBreakerColumns: z.array(identifier).default([]),
  /** Columns to offload; `all` (the default) takes every column of the source. */
  columns: z.union([z.literal('all'), z.array(identifier).min(1, { error: 'list at least one column or use "all"' })]).default('all'),
  /** Read a ReplacingMergeTree with FINAL so unmerged duplicates do not reach the cold tier. */
  final: z.boolean().default(false),
  dependsOn: z.array(identifier).default([]),
  timeoutSeconds: positiveSeconds(DAY_SECONDS).default(600),
  /** Iceberg partition spec; defaults to `day(timestampColumn)`. */
  partitionBy: z.array(partitionField).optional(),
  /** What to do when ClickHouse gains columns the Iceberg table lacks. */
  onSchemaChange: z.enum(['evolve', 'fail']).default('fail'),
  /**
   * `stop-merges`: run `SYSTEM STOP TTL MERGES` on the source while its TTL
   * headroom is below the critical bound, and `SYSTEM START TTL MERGES` once
   * the offload caught up (needs the `SYSTEM TTL MERGES` grant).
   */
  ttlGuard: z.enum(['off', 'stop-merges']).default('off'),
});

export type TableConfigInput = z.input<typeof tableSchema>;

const retrySchema = z
  .strictObject({
    /** Retries after the first attempt, for retryable failures only. */
    retries: z.number().int().min(0).max(20).default(2),
    minDelaySeconds: z.number().min(0).max(3600).default(30),
    maxDelaySeconds: z.number().min(0).max(3600).default(120),
    factor: z.number().min(1).max(10).default(2),
    jitter: z.boolean().default(true),
  })
  .prefault({});

const clickhouseSchema = z
  .strictObject({
    /** HTTP(S) URL of the ClickHouse server; `embedded` uses an in-process chdb engine. */
    url: z.string().default('embedded'),
    username: z.string().default('default'),
    /** Name of the environment variable holding the password (never the password itself). */
    passwordEnv: z.string().default('CLICKHOUSE_PASSWORD'),
    /** chdb data directory when url is `embedded`. */
    path: z.string().optional(),
    /**
     * Longest silence of the server while connecting or during a request before it
     * fails as a retryable `timeout`: a server that accepts and never answers does
     * not hold a table's budget. Raise it for queries that think longer than this
     * before their first row.
     */
    requestTimeoutSeconds: positiveSeconds(DAY_SECONDS).default(120),
  })
  .prefault({});

const watermarkStoreSchema = z
  .strictObject({
    /** Name of the environment variable holding the PostgreSQL connection URL. */
    urlEnv: z.string().default('COLDTIER_DATABASE_URL'),
    /** `running` rows older than this are reset to `failed` at start. */
    staleRunningMinutes: z.number().positive().max(7 * 24 * 60).default(30),
    /** A server that accepts the connection but does not complete the handshake within this fails as `timeout`. */
    connectTimeoutSeconds: z.number().positive().max(300).default(10),
    /** Longest one statement may run (server-side `statement_timeout`; the client gives up 5 s later). */
    statementTimeoutSeconds: z.number().positive().max(3600).default(60),
  })
  .prefault({});

/**
 * The Iceberg catalog, the same keys for both runners: the embedded runner
 * opens it itself, the Spark runner derives the job's `spark.sql.catalog.*`
 * settings from it, so one config describes the catalog once.
 */


const httpUrl = (what: string) =>
  z.string({ error: `expected ${what}` }).refine(
    (value) => {
      try {
        const url = new URL(value);
        return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '';
      } catch {
        return false;
      }
    },
    { error: (issue) => `expected ${what} (http or https, no credentials in it), got ${JSON.stringify(issue.input)}` },
  );

/** An Iceberg REST catalog (Polaris, Nessie, Lakekeeper, Gravitino, Glue, S3 Tables, ...). Secrets come from the variables named. */
const restCatalogSchema = z
  .strictObject({
    kind: z.literal('rest'),
    /** Base URI, without `/v1`. */
    uri: httpUrl('the REST catalog base URI'),
    /** The warehouse to ask `/v1/config` for, on catalogs that serve several. */
    warehouse: z.string().min(1).optional(),
    /** Variable holding `client_id:client_secret` for OAuth2 client credentials. */
    credentialEnv: z.string().min(1).optional(),
    /** Variable holding a static bearer token. */
    tokenEnv: z.string().min(1).optional(),
    /** OAuth2 token endpoint; default `<uri>/v1/oauth/tokens`. */
    oauth2ServerUri: httpUrl('the OAuth2 token endpoint').optional(),
    scope: z.string().default('catalog'),
    timeoutSeconds: positiveSeconds(3600).default(30),
  })
  .refine((c) => !(c.credentialEnv && c.tokenEnv), { error: 'set credentialEnv or tokenEnv, not both', path: ['tokenEnv'] });

/** An S3-compatible object store for `s3://` warehouses. Credentials: the AWS default chain (AWS_ACCESS_KEY_ID, ...), never this file. */
const s3StorageSchema = z.strictObject({
  /** Custom endpoint (MinIO, R2, GCS's S3 API); AWS when absent. */
  endpoint: httpUrl('the S3 endpoint URL').optional(),
  region: z.string({ error: 'expected the region, e.g. "us-east-1"' }).min(1),
  /** `endpoint/bucket/key` instead of `bucket.endpoint/key` (MinIO and most self-hosted stores). */
  pathStyle: z.boolean().default(false),
  /** Multipart part size; upload buffers are at most partSizeBytes x (partsInFlight + 1). */
  partSizeBytes: z.number().int().min(5 * 1024 * 1024, { error: 'must be at least 5 MiB (5242880), the S3 minimum' }).default(8 * 1024 * 1024),
  partsInFlight: z.number().int().min(1).max(64).default(2),
  /** Attempts per request, with exponential backoff on throttling and 5xx. */
  maxAttempts: z.number().int().min(1).max(20).default(5),
  requestTimeoutSeconds: positiveSeconds(3600).default(60),
  /** The store honours `If-None-Match: *` (AWS S3, MinIO, R2). */
  conditionalWrites: z.boolean().default(true),
  /** Local directory data files are staged in before upload; default the OS temp dir. */
  stagingDir: z.string().min(1).optional(),
  /**
   * How the ClickHouse server reaches the store (server-side export, reads
   * of the cold tier): a named collection on that server holds the
   * credentials, so Coldtier never sends ClickHouse a secret.
   */
  clickhouse: z
    .strictObject({
      namedCollection: identifier,
      /** The endpoint as the ClickHouse server reaches it; default `endpoint`. */
      endpoint: httpUrl('the S3 endpoint URL as the ClickHouse server reaches it').optional(),
    })
    .optional(),
});

const storageSchema = z.strictObject({ s3: s3StorageSchema.optional() }).prefault({});

/** `s3://`, `s3a://` or `s3n://`: the warehouse is on object storage. */
export function isObjectStoreLocation(location: string): boolean {
  return isS3Location(location);
}

/** Where both runners' tables live: one description of the catalog, whichever runner writes. */
const catalogFields = {
  /** Warehouse root: a local path, or `s3://bucket/prefix` with `storage.s3`. */
  warehouse: z.string().default('./warehouse'),
  /**
   * `filesystem`: Hadoop layout under `warehouse`. `sql`: the Iceberg JDBC
   * catalog's tables in the watermark store's PostgreSQL database, so the
   * snapshot and the watermark advance commit in one transaction.
   * `{ kind: rest, uri, ... }`: an Iceberg REST catalog.
   */
  catalog: z.union([z.enum(['filesystem', 'sql']), restCatalogSchema]).default('filesystem'),
  /** The SQL catalog's `catalog_name` (the catalog name Spark or Trino are configured with). */
  catalogName: identifier.default('coldtier'),
};

const sparkRunnerSchema = z.strictObject({
  kind: z.literal('spark'),
  /**
   * Command prefix run before the job arguments, e.g.
   * `["spark-submit", "--master", "local[2]", ".../offload_job.py"]` or
   * `["docker", "exec", "k2-spark-iceberg", "python3", "offload_generic.py"]`.
   */
  command: z.array(z.string()).min(1, { error: 'give the command to run, e.g. ["spark-submit", "job.py"]' }),
  /** Seconds between SIGTERM and SIGKILL when a job is stopped. */
  killGraceSeconds: positiveSeconds(3600).default(10),
  /** Extra environment for the job (names of variables to pass through from ours). */
  passEnv: z.array(z.string()).default([]),
  /**
   * Coldtier creates or evolves the Iceberg table before each job, with the
   * embedded runner's code, reads its committed watermark for recovery, and
   * hands the job typed `--select` casts (offload_job.py). `false` for a job
   * that manages its table itself and takes no `--select`.
   */
  prepareTable: z.boolean().default(true),
  ...catalogFields,
  // The job's catalog settings are derived for filesystem and sql; REST needs the Iceberg AWS bundle on Spark's classpath.
  catalog: z.enum(['filesystem', 'sql'], { error: 'the Spark runner writes through a filesystem or sql catalog; rest is supported by the embedded runner' }).default('filesystem'),
});

const embeddedRunnerSchema = z.strictObject({
  kind: z.literal('embedded'),
  ...catalogFields,
  /**
   * How data files reach the warehouse: `stream` (rows come through
   * Coldtier) or `server-side` (ClickHouse writes them; on S3 through
   * `storage.s3.clickhouse`). Default: `server-side` for the embedded
   * engine, `stream` for a ClickHouse server.
   */
  exportMode: z.enum(['stream', 'server-side'], { error: (issue) => `unknown export mode ${JSON.stringify(issue.input)}: expected "stream" or "server-side"` }).optional(),
  targetFileSizeBytes: z.number().int().positive().max(16 * 1024 ** 3).default(128 * 1024 * 1024),
});

/**
 * Alert and dashboard thresholds changed from the seeds' catalog: `overrides`
 * for the deployment, `tables.<name>` per table. Bounds are checked by
 * @coldtier/offload-diagnostics (`resolveThresholds`), which owns the catalog;
 * here only the shape and the table names.
 */
const thresholdsSchema = z
  .strictObject({
    overrides: z.record(z.string(), z.unknown()).optional(),
    tables: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  })
  .optional();

/** Table maintenance the daemon runs on its own schedule (`coldtier maintain` runs it by hand). */
const maintenanceSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** Hours between maintenance runs of each table. */
    intervalHours: z.number().positive({ error: 'must be > 0' }).default(24),
    /** Actions to run, in this order: compact, rewrite_manifests, expire_snapshots, remove_orphans. */
    actions: z
      .array(z.enum(['compact', 'rewrite_manifests', 'expire_snapshots', 'remove_orphans']))
      .min(1, { error: 'list at least one action, or set enabled: false' })
      .default(['compact', 'rewrite_manifests', 'expire_snapshots', 'remove_orphans']),
    /** Only partitions no offload wrote to for this long are compacted. */
    compactQuietMinutes: z.number().min(0).default(60),
    /** Unreferenced files younger than this are never removed (a run may still commit them). */
    orphanGraceHours: z.number().positive({ error: 'must be > 0' }).default(72),
  })
  .prefault({});

export const configSchema = z
  .strictObject({
    scheduleMinutes: z.number().positive().max(24 * 60).default(15),
    lateDataBufferMinutes: z.number().min(0).max(7 * 24 * 60).default(5),
    /** Tables offloaded at once within a cycle. */
    concurrency: z.number().int().min(1).max(64).default(4),
    retry: retrySchema,
    clickhouse: clickhouseSchema,
    watermarkStore: watermarkStoreSchema,
    runner: z
      .discriminatedUnion('kind', [sparkRunnerSchema, embeddedRunnerSchema], {
        error: (issue) => {
          const input = issue.input as unknown;
          const kind = typeof input === 'object' && input !== null ? (input as { kind?: unknown }).kind : input;
          return `unknown runner kind ${JSON.stringify(kind) ?? 'undefined'}: expected "spark" or "embedded"`;
        },
      })
      .prefault({ kind: 'embedded' }),
    maintenance: maintenanceSchema,
    storage: storageSchema,
    tables: z.array(tableSchema).min(1, { error: 'configure at least one table' }),
    thresholds: thresholdsSchema,
  })
  .superRefine((config, ctx) => {
    const runner = config.runner;
    if (runner.kind === 'embedded' && isObjectStoreLocation(runner.warehouse)) {
      if (!config.storage.s3) {
        ctx.addIssue({ code: 'custom', path: ['storage', 's3'], message: `required when runner.warehouse is ${JSON.stringify(runner.warehouse)}: give at least the region` });
      }
      if (runner.exportMode === 'server-side' && config.storage.s3 && !config.storage.s3.clickhouse) {
        ctx.addIssue({
          code: 'custom',
          path: ['runner', 'exportMode'],
          message: `"server-side" on ${JSON.stringify(runner.warehouse)} needs storage.s3.clickhouse.namedCollection: the named collection with the store's credentials on the ClickHouse server`,
        });
      }
      if (runner.catalog === 'filesystem' && config.storage.s3?.conditionalWrites === false) {
        ctx.addIssue({
          code: 'custom',
          path: ['runner', 'catalog'],
          message:
            'the filesystem (Hadoop) catalog needs an atomic create, which this store lacks (storage.s3.conditionalWrites: false); use "sql" or { kind: rest, uri: ... }',
        });
      }
    }
    const names = config.tables.map((t) => t.name ?? t.source.split('.')[1]!);
    for (const table of Object.keys(config.thresholds?.tables ?? {})) {
      if (!names.includes(table)) {
        ctx.addIssue({ code: 'custom', path: ['thresholds', 'tables', table], message: `unknown table ${JSON.stringify(table)}: expected one of ${names.join(', ')}` });
      }
    }
    names.forEach((name, i) => {
      if (names.indexOf(name) !== i) {
        ctx.addIssue({ code: 'custom', path: ['tables', i, 'name'], message: `duplicate table name ${JSON.stringify(name)}` });
      }
    });
    config.tables.forEach((table, i) => {
      table.dependsOn.forEach((dep, j) => {
        if (!names.includes(dep)) {
          ctx.addIssue({ code: 'custom', path: ['tables', i, 'dependsOn', j], message: `unknown table ${JSON.stringify(dep)}` });
        } else if (dep === names[i]) {
          ctx.addIssue({ code: 'custom', path: ['tables', i, 'dependsOn', j], message: `a table cannot depend on itself (${JSON.stringify(dep)})` });
        }
      });
      if (table.columns !== 'all') {
        for (const key of ['timestampColumn', 'sequenceColumn'] as const) {
          if (!table.columns.includes(table[key])) {
            ctx.addIssue({ code: 'custom', path: ['tables', i, 'columns'], message: `must include the ${key} ${JSON.stringify(table[key])}` });
          }
        }
        table.tieBreakerColumns.forEach((column, j) => {
          if (!(table.columns as string[]).includes(column)) {
            ctx.addIssue({ code: 'custom', path: ['tables', i, 'tieBreakerColumns', j], message: `${JSON.stringify(column)} is not in columns` });
          }
        });
      }
    });
  });

export type ConfigInput = z.input<typeof configSchema>;
type ParsedConfig = z.output<typeof configSchema>;
type ParsedTable = ParsedConfig['tables'][number];

/** One table to offload, with defaults applied. */
export interface TableConfig extends Omit<ParsedTable, 'name' | 'partitionBy'> {
  /** Logical name: metrics label, log name, watermark key. */
  readonly name: string;
  readonly partitionBy: readonly PartitionField[];
}

export type PartitionField = z.output<typeof partitionField>;
export type RetryPolicy = ParsedConfig['retry'];
export type RunnerConfig = ParsedConfig['runner'];
export type SparkRunnerConfig = z.output<typeof sparkRunnerSchema>;
export type EmbeddedRunnerConfig = z.output<typeof embeddedRunnerSchema>;
export type MaintenanceConfig = ParsedConfig['maintenance'];
export type RestCatalogConfig = z.output<typeof restCatalogSchema>;
export type S3StorageConfig = z.output<typeof s3StorageSchema>;

/** The REST catalog's secret, read from the variable the config names. */
export type RestCatalogSecret =
  | { readonly kind: 'client-credentials'; readonly clientId: string; readonly clientSecret: string }
  | { readonly kind: 'token'; readonly token: string };

/** A validated configuration with defaults applied and secrets resolved from the environment. */
export interface OffloadConfig extends Omit<ParsedConfig, 'tables' | 'clickhouse'> {
  readonly tables: readonly TableConfig[];
  readonly clickhouse: ParsedConfig['clickhouse'] & { readonly password: string | undefined };
  /** PostgreSQL URL of the watermark store, from `watermarkStore.urlEnv`. */
  readonly databaseUrl: string | undefined;
  /** From `runner.catalog.credentialEnv` / `tokenEnv`; undefined without a REST catalog or without either key. */
  readonly restCatalogSecret: RestCatalogSecret | undefined;
}
