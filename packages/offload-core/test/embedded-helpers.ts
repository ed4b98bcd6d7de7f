import { relative } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase, openTestPool } from '@coldtier/test-support';
import type { ClickHouseClient } from '@clickhouse/client';
import type { ManualClock } from '../src/clock.js';
import { tableSchema } from '../src/config/index.js';
import type { RetryPolicy, TableConfig, TableConfigInput } from '../src/config/index.js';
import { CycleOrchestrator } from '../src/cycle/orchestrator.js';
import type { ClickHouseColumn } from '../src/iceberg/schema-mapping/evolve.js';
import type { JobRunner } from '../src/runner/contract.js';
import { migrate } from '../src/watermark/migrations.js';
import type { WatermarkStore } from '../src/watermark/store.js';

/** The reference's bronze columns plus the Array, Map and Nullable columns Spark JDBC could not carry. */
export const BRONZE_COLUMNS = `
  exchange LowCardinality(String), symbol LowCardinality(String), canonical_symbol LowCardinality(String),
  sequence_number UInt64, trade_id String, price Decimal64(8), quantity Decimal64(8), quote_volume Decimal64(8),
  side Enum8('buy' = 1, 'sell' = 2), exchange_timestamp DateTime64(3), platform_timestamp DateTime64(3),
  ingested_at DateTime64(3) DEFAULT now64(), schema_version LowCardinality(String), metadata String, _version UInt64,
  tags Array(String), attrs Map(String, String), fee Nullable(Float64)`;

export function bronzeDdl(table: string): string {
  return `CREATE TABLE ${table} (${BRONZE_COLUMNS}) ENGINE = ReplacingMergeTree(_version)
    PARTITION BY (exchange, toYYYYMMDD(exchange_timestamp))
    ORDER BY (exchange, canonical_symbol, exchange_timestamp, sequence_number)`;
}

/**
 * Trades `from` ≤ n < `to`: pairs share a millisecond timestamp, 200.003 s
 * apart from 2024-01-01 00:00 UTC (or `pairSpacingMs`), so 1,000 trades span
 * about 28 hours.
 */
export function bronzeInsert(table: string, from: number, to: number, version = 1, pairSpacingMs = 200003): string {
  return `INSERT INTO ${table} (exchange, symbol, canonical_symbol, sequence_number, trade_id, price, quantity, quote_volume,
      side, exchange_timestamp, platform_timestamp, schema_version, metadata, _version, tags, attrs, fee)
    SELECT if(number % 3 = 0, 'kraken', 'binance'), 'BTC/USD', 'BTCUSD', number, concat('t', toString(number)),
      toDecimal64(number / 7, 8), toDecimal64(1.5, 8), toDecimal64(number * 1.5, 8), if(number % 2 = 0, 'buy', 'sell'),
      toDateTime64('2024-01-01 00:00:00', 3, 'UTC') + toIntervalMillisecond(intDiv(number, 2) * ${pairSpacingMs}),
      toDateTime64('2024-01-01 00:00:00', 3, 'UTC'), 'v2', concat('{"n":', toString(number), '}'), ${version},
      arrayMap(i -> toString(i), range(number % 4)), map('k', toString(number % 5), 'n', toString(number)),
      if(number % 10 = 0, NULL, number / 3)
    FROM numbers(${from}, ${to - from})`;
}

export function tableConfig(input: Partial<TableConfigInput> & { name: string }): TableConfig {
  const parsed = tableSchema.parse({
    source: `k2.${input.name}`,
    target: `cold.${input.name}`,
    layer: 'bronze',
    timestampColumn: 'exchange_timestamp',
    sequenceColumn: 'sequence_number',
    final: true,
    ...input,
  });
  return { ...parsed, name: input.name, partitionBy: parsed.partitionBy ?? [] };
}

export const noRetry: RetryPolicy = { retries: 0, minDelaySeconds: 0, maxDelaySeconds: 0, factor: 2, jitter: false };

/** One-table cycles on a manual clock. */
export function cycles(tables: readonly TableConfig[], store: WatermarkStore, runner: JobRunner, clock: ManualClock): CycleOrchestrator {
  return new CycleOrchestrator({ tables, store, runner, clock, concurrency: 1, retry: noRetry, lateDataBufferMinutes: 5, leaseOwner: 'test' });
}

/**
 * Runs a query against an Iceberg table through ClickHouse's own Iceberg
 * reader, at the metadata file the catalog points to. chdb confines table functions to its working directory, so the
 * query runs with `root` as the working directory and the table addressed
 * relative to it.
 */
export async function readIceberg<T>(
  client: ClickHouseClient,
  root: string,
  table: { readonly metadataLocation: string; readonly metadata: { readonly location: string } },
  select: (from: string) => string,
): Promise<T[]> {
  const cwd = process.cwd();
  process.chdir(root);
  try {
    // Pinned to the metadata file the catalog points at: a reader guessing the newest file by name could pick an unpublished one.
    const location = table.metadata.location;
    const from = `icebergLocal('${relative(root, location)}', SETTINGS iceberg_metadata_file_path = '${relative(location, table.metadataLocation)}')`;
    const result = await client.query({ query: select(from), format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 1 } });
    return await result.json<T>();
  } finally {
    process.chdir(cwd);
  }
}

/**
 * Row count and one order-independent checksum per column over `from`.
 * Timestamps are compared as microseconds: Iceberg stores them at that
 * precision, so their text differs from a DateTime64(3) source.
 */
export function checksumQuery(columns: readonly ClickHouseColumn[], from: string, where = ''): string {
  const sums = columns.map((c) => {
    const value = c.type.includes('DateTime64') ? `toUnixTimestamp64Micro(\`${c.name}\`)` : `\`${c.name}\``;
    return `toString(groupBitXor(cityHash64(toString(${value})))) AS \`${c.name}\``;
  });
  return `SELECT toString(count()) AS rows, ${sums.join(', ')} FROM ${from} ${where}`;
}

/** A fresh database with the watermark schema, for the enclosing `describe` block. */
export function useMigratedDatabase(): { readonly pool: pg.Pool; readonly url: string } {
  let database: TestDatabase | undefined;
  let pool: pg.Pool | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
    pool = openTestPool({ connectionString: database.url });
    await migrate(pool);
  });
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });
  return {
    get pool(): pg.Pool {
      if (!pool) throw new Error('the database is opened in beforeAll');
      return pool;
    },
    get url(): string {
      if (!database) throw new Error('the database is opened in beforeAll');
      return database.url;
    },
  };
}
