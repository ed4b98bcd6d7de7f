import { z } from 'zod';
import { isIdentifier } from '../identifiers/index.js';

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

const positiveSeconds = z.number({ error: 'expected a number of seconds' }).positive({ error: 'must be > 0' });

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
  timeoutSeconds: positiveSeconds.default(600),
  /** Iceberg partition spec; defaults to `day(timestampColumn)`. */
  partitionBy: z.array(partitionField).optional(),
  /** What to do when ClickHouse gains columns the Iceberg table lacks. */
  onSchemaChange: z.enum(['evolve', 'fail']).default('fail'),
});

export type TableConfigInput = z.input<typeof tableSchema>;

const retrySchema = z
  .strictObject({
    /** Retries after the first attempt, for retryable failures only. */
    retries: z.number().int().min(0).max(20).default(2),
    minDelaySeconds: z.number().min(0).default(30),
    maxDelaySeconds: z.number().min(0).default(120),
    factor: z.number().min(1).default(2),
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
  })
  .prefault({});

const watermarkStoreSchema = z
  .strictObject({
    /** Name of the environment variable holding the PostgreSQL connection URL. */
    urlEnv: z.string().default('COLDTIER_DATABASE_URL'),
    /** `running` rows older than this are reset to `failed` at start. */
    staleRunningMinutes: z.number().positive().default(30),
  })
  .prefault({});

/**
 * The Iceberg catalog, the same keys for both runners: the embedded runner
 * opens it itself, the Spark runner derives the job's `spark.sql.catalog.*`
 * settings from it, so one config describes the catalog once.
 */
const catalogFields = {
  /** Warehouse root (for the filesystem catalog, also where tables live). */
  warehouse: z.string().default('./warehouse'),
  /**
   * `filesystem`: Hadoop layout under `warehouse`. `sql`: the Iceberg JDBC
   * catalog's tables in the watermark store's PostgreSQL database, so the
   * snapshot and the watermark advance commit in one transaction.
   */
  catalog: z.enum(['filesystem', 'sql']).default('filesystem'),
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
  killGraceSeconds: positiveSeconds.default(10),
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
});

const embeddedRunnerSchema = z.strictObject({
  kind: z.literal('embedded'),
  ...catalogFields,
  targetFileSizeBytes: z.number().int().positive().default(128 * 1024 * 1024),
});

export const configSchema = z
  .strictObject({
    scheduleMinutes: z.number().positive().max(24 * 60).default(15),
    lateDataBufferMinutes: z.number().min(0).default(5),
    /** Tables offloaded at once within a cycle. */
    concurrency: z.number().int().min(1).max(64).default(4),
    retry: retrySchema,
    clickhouse: clickhouseSchema,
    watermarkStore: watermarkStoreSchema,
    runner: z.discriminatedUnion('kind', [sparkRunnerSchema, embeddedRunnerSchema]).prefault({ kind: 'embedded' }),
    tables: z.array(tableSchema).min(1, { error: 'configure at least one table' }),
  })
  .superRefine((config, ctx) => {
    const names = config.tables.map((t) => t.name ?? t.source.split('.')[1]!);
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
          ctx.addIssue({ code: 'custom', path: ['tables', i, 'dependsOn', j], message: 'a table cannot depend on itself' });
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

/** A validated configuration with defaults applied and secrets resolved from the environment. */
export interface OffloadConfig extends Omit<ParsedConfig, 'tables' | 'clickhouse'> {
  readonly tables: readonly TableConfig[];
  readonly clickhouse: ParsedConfig['clickhouse'] & { readonly password: string | undefined };
  /** PostgreSQL URL of the watermark store, from `watermarkStore.urlEnv`. */
  readonly databaseUrl: string | undefined;
}
