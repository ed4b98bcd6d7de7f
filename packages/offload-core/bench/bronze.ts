import type { ClickHouseClient } from '@clickhouse/client';
import { bronzeTableDdl, insertTrades } from '@coldtier/offload-core';

export const DATABASE = 'k2';
export const TABLE = 'bronze_trades_binance';
/** The generated trades span these two days, so the window has two day partitions. */
export const FIRST_DAY = '2026-01-01';
export const UNTIL = '2026-01-02T23:59:59.999999Z';

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

/**
 * What the offload reads: the window's rows, FINAL, in the source's order
 * (Coldtier's files hold contiguous cursor ranges but are not sorted inside).
 */
export const WINDOW_QUERY = `SELECT ${ICEBERG_CASTS} FROM (
  SELECT * FROM ${DATABASE}.${TABLE} FINAL
  WHERE exchange_timestamp <= parseDateTime64BestEffort('${UNTIL}', 6, 'UTC'))`;

/**
 * Creates the bronze table and fills it with `rows` synthetic trades over two
 * days, then merges the parts so every measurement reads the same layout.
 */
export async function createBronze(client: ClickHouseClient, rows: number): Promise<void> {
  await client.command({ query: `CREATE DATABASE ${DATABASE}` });
  // The reference's schema without its 7-day TTL, which would expire the fixed-date rows.
  await client.command({ query: bronzeTableDdl(DATABASE, TABLE, { ttlDays: null }) });
  const from = new Date(`${FIRST_DAY}T00:00:00Z`);
  const to = new Date(from.getTime() + 2 * 86_400_000);
  await insertTrades(client, DATABASE, TABLE, { exchange: 'binance', firstSequence: 1n, count: rows, from, to });
  await client.command({ query: `OPTIMIZE TABLE ${DATABASE}.${TABLE} FINAL` });
}
