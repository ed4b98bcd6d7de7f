import type { ClickHouseClient } from '@clickhouse/client';
import { insertTrades, parseQualifiedName, quoteClickHouseQualified } from '@coldtier/offload-core';
import type { TableConfig } from '@coldtier/offload-core';
import { exchangeOf } from './generator.js';

/** How far back the embedded demo's source starts: well past the 5-minute late-data buffer. */
export const SEED_MINUTES = 30;

/** One trade per exchange every half second: a few thousand rows, inserted in well under a second. */
const SEED_TRADES_PER_MINUTE = 120;

/**
 * Fills each empty bronze table with the last `minutes` of trades, so the
 * first cycle of a fresh demo (whose window ends a late-data buffer before
 * now) already has rows to offload. A table that has rows is left alone: a
 * restarted demo continues from its own data. Returns the rows inserted.
 */
export async function seedRecentTrades(client: ClickHouseClient, tables: readonly TableConfig[], now: Date, minutes = SEED_MINUTES): Promise<number> {
  let inserted = 0;
  for (const table of tables) {
    const name = parseQualifiedName(table.source);
    const result = await client.query({ query: `SELECT count() AS n FROM ${quoteClickHouseQualified(name)}`, format: 'JSONEachRow' });
    const [row] = await result.json<{ n: string | number }>();
    if (Number(row?.n ?? 0) > 0) continue;
    const count = minutes * SEED_TRADES_PER_MINUTE;
    await insertTrades(client, name.namespace, name.name, {
      exchange: exchangeOf(table),
      firstSequence: 1n,
      count,
      from: new Date(now.getTime() - minutes * 60_000),
      to: now,
    });
    inserted += count;
  }
  return inserted;
}
