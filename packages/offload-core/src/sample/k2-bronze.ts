/**
 * Sample data for demos, benchmarks and tests: the K2 reference's bronze
 * trades table and a synthetic trade generator. Not needed to offload.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { quoteClickHouse } from '../identifiers/index.js';

export interface BronzeTableOptions {
  /** The reference expires rows after 7 days; `null` keeps them (fixed-date benchmark data). */
  readonly ttlDays?: number | null;
}

/** The bronze schema of the K2 reference (shared/reference/k2-reference.md, "Bronze schema"). */
export function bronzeTableDdl(database: string, table: string, options: BronzeTableOptions = {}): string {
  const ttlDays = options.ttlDays === undefined ? 7 : options.ttlDays;
  const ttl = ttlDays === null ? '' : `\n  TTL toDateTime(exchange_timestamp) + INTERVAL ${Math.trunc(ttlDays)} DAY`;
  return `CREATE TABLE IF NOT EXISTS ${quoteClickHouse(database)}.${quoteClickHouse(table)} (
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
  ORDER BY (exchange, canonical_symbol, exchange_timestamp, sequence_number)${ttl}`;
}

export interface TradeBatch {
  readonly exchange: string;
  /** First sequence number of the batch; the batch uses `count` consecutive numbers. */
  readonly firstSequence: bigint;
  readonly count: number;
  /** Trades are spread evenly over [from, to). */
  readonly from: Date;
  readonly to: Date;
}

/** Inserts a batch of synthetic trades, generated inside ClickHouse from the batch parameters. */
export async function insertTrades(client: ClickHouseClient, database: string, table: string, batch: TradeBatch): Promise<void> {
  const spanMs = Math.max(1, batch.to.getTime() - batch.from.getTime());
  await client.command({
    query: `INSERT INTO ${quoteClickHouse(database)}.${quoteClickHouse(table)}
      (exchange, symbol, canonical_symbol, sequence_number, trade_id, price, quantity, quote_volume, side,
       exchange_timestamp, platform_timestamp, schema_version, metadata, _version)
      SELECT
        {exchange:String},
        ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'][number % 3 + 1],
        ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'][number % 3 + 1],
        {first:UInt64} + number,
        concat({exchange:String}, '-', toString({first:UInt64} + number)),
        toDecimal64(50000 + (cityHash64(number, {first:UInt64}) % 100000) / 100, 8),
        toDecimal64((cityHash64({first:UInt64}, number) % 1000000) / 1000000, 8),
        toDecimal64(0, 8),
        if(number % 2 = 0, 'buy', 'sell'),
        fromUnixTimestamp64Milli({fromMs:Int64} + intDiv(number * {spanMs:Int64}, {count:UInt64})),
        fromUnixTimestamp64Milli({fromMs:Int64} + intDiv(number * {spanMs:Int64}, {count:UInt64}) + 3),
        'v2',
        '{}',
        1
      FROM numbers({count:UInt64})`,
    query_params: {
      exchange: batch.exchange,
      first: batch.firstSequence.toString(),
      count: batch.count,
      fromMs: batch.from.getTime(),
      spanMs,
    },
  });
}
