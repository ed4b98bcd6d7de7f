import type { ClickHouseClient } from '@clickhouse/client';

export const DATABASE = 'k2';
export const TABLE = 'bronze_trades_binance';
/** The generated trades span these two days, so the window has two day partitions. */
export const FIRST_DAY = '2026-01-01';
export const UNTIL = '2026-01-02T23:59:59.999999Z';

/**
 * The reference bronze schema (apps/reference-scheduler/src/embedded/bronze.ts)
 * without its 7-day TTL, which would expire the fixed-date rows.
 */
const DDL = `CREATE TABLE ${DATABASE}.${TABLE} (
  exchange LowCardinality(String),
  symbol LowCardinality(String),
  canonical_symbol LowCardinality(String),
  sequence_number UInt64,
  trade_id String,
  price Decimal64(8),
  quantity Decimal64(8),
  quote_volume Decimal64(8),
  side Enum8('buy' = 1, 'sell' = 2),
  exchange_timestamp DateTime64(3),
  platform_timestamp DateTime64(3),
  ingested_at DateTime64(3) DEFAULT now64(),
  schema_version LowCardinality(String),
  metadata String,
  _version UInt64
)
ENGINE = ReplacingMergeTree(_version)
PARTITION BY (exchange, toYYYYMMDD(exchange_timestamp))
ORDER BY (exchange, canonical_symbol, exchange_timestamp, sequence_number)`;

/**
 * The columns as Coldtier's type mapping casts them for Iceberg (UInt64 →
 * decimal(20, 0), Decimal64(8) → decimal(18, 8), DateTime64(3) →
 * timestamptz, LowCardinality and Enum → string), so ClickHouse's own
 * exports write the same Parquet types the offload writes.
 */
export const ICEBERG_CASTS = [
  'CAST(`exchange` AS String) AS `exchange`',
  'CAST(`symbol` AS String) AS `symbol`',
  'CAST(`canonical_symbol` AS String) AS `canonical_symbol`',
  'CAST(`sequence_number` AS Decimal(20, 0)) AS `sequence_number`',
  'CAST(`trade_id` AS String) AS `trade_id`',
  'CAST(`price` AS Decimal(18, 8)) AS `price`',
  'CAST(`quantity` AS Decimal(18, 8)) AS `quantity`',
  'CAST(`quote_volume` AS Decimal(18, 8)) AS `quote_volume`',
  'CAST(`side` AS String) AS `side`',
  "CAST(`exchange_timestamp` AS DateTime64(6, 'UTC')) AS `exchange_timestamp`",
  "CAST(`platform_timestamp` AS DateTime64(6, 'UTC')) AS `platform_timestamp`",
  "CAST(`ingested_at` AS DateTime64(6, 'UTC')) AS `ingested_at`",
  'CAST(`schema_version` AS String) AS `schema_version`',
  'CAST(`metadata` AS String) AS `metadata`',
  'CAST(`_version` AS Decimal(20, 0)) AS `_version`',
].join(', ');

/** What the offload reads: the window's rows, FINAL, in cursor order. */
export const WINDOW_QUERY = `SELECT ${ICEBERG_CASTS} FROM (
  SELECT * FROM ${DATABASE}.${TABLE} FINAL
  WHERE exchange_timestamp <= parseDateTime64BestEffort('${UNTIL}', 6, 'UTC')
  ORDER BY exchange_timestamp, sequence_number)`;

/**
 * Creates the bronze table and fills it with `rows` synthetic trades over two
 * days, generated inside ClickHouse like the reference's `insertTrades`, then
 * merges the parts so every measurement reads the same layout.
 */
export async function createBronze(client: ClickHouseClient, rows: number): Promise<void> {
  await client.command({ query: `CREATE DATABASE ${DATABASE}` });
  await client.command({ query: DDL });
  const spanMs = 2 * 86_400_000;
  await client.command({
    query: `INSERT INTO ${DATABASE}.${TABLE}
      (exchange, symbol, canonical_symbol, sequence_number, trade_id, price, quantity, quote_volume, side,
       exchange_timestamp, platform_timestamp, schema_version, metadata, _version)
      SELECT
        'binance',
        ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'][number % 3 + 1],
        ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'][number % 3 + 1],
        number + 1,
        concat('binance-', toString(number + 1)),
        toDecimal64(50000 + (cityHash64(number) % 100000) / 100, 8),
        toDecimal64((cityHash64(number, 1) % 1000000) / 1000000, 8),
        toDecimal64(0, 8),
        if(number % 2 = 0, 'buy', 'sell'),
        fromUnixTimestamp64Milli({fromMs:Int64} + intDiv(number * {spanMs:Int64}, {rows:UInt64})),
        fromUnixTimestamp64Milli({fromMs:Int64} + intDiv(number * {spanMs:Int64}, {rows:UInt64}) + 3),
        'v2',
        '{}',
        1
      FROM numbers({rows:UInt64})`,
    query_params: { fromMs: Date.parse(`${FIRST_DAY}T00:00:00Z`), spanMs, rows },
  });
  await client.command({ query: `OPTIMIZE TABLE ${DATABASE}.${TABLE} FINAL` });
}
