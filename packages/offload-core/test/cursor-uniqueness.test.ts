import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedClickHouse, type EmbeddedClickHouse } from '@coldtier/test-support';
import { INITIAL_CURSOR, UnknownTableError, checkCursorUniqueness, parseConfig, parseMicros, type TableConfig } from '../src/index.js';

let ch: EmbeddedClickHouse;

const tableConfig = (overrides: Record<string, unknown> = {}): TableConfig =>
  parseConfig({
    tables: [
      {
        source: 'k2.silver_trades',
        target: 'cold.silver_trades',
        layer: 'silver',
        timestampColumn: 'ts',
        sequenceColumn: 'seq',
        ...overrides,
      },
    ],
  }).tables[0]!;

beforeAll(async () => {
  ch = await startEmbeddedClickHouse();
  await ch.client.command({ query: 'CREATE DATABASE k2' });
  await ch.client.command({
    query: `CREATE TABLE k2.silver_trades (exchange LowCardinality(String), ts DateTime64(3, 'UTC'), seq UInt64, v UInt64)
      ENGINE = ReplacingMergeTree(v) ORDER BY (exchange, ts, seq)`,
  });
  // Two exchanges reuse sequence numbers at the same instant; kraken's row 2 also has an unmerged older version.
  await ch.client.command({
    query: `INSERT INTO k2.silver_trades VALUES
      ('binance', '2026-11-21 10:00:00.000', 1, 1), ('kraken', '2026-11-21 10:00:00.000', 1, 1),
      ('binance', '2026-11-21 10:00:01.000', 2, 1), ('kraken', '2026-11-21 10:00:01.000', 3, 1)`,
  });
  await ch.client.command({ query: `INSERT INTO k2.silver_trades VALUES ('kraken', '2026-11-21 10:00:01.000', 3, 2)` });
});
afterAll(() => ch.close());

describe('cursor uniqueness check', () => {
  it('finds rows sharing (timestamp, sequence) across exchanges', async () => {
    const result = await checkCursorUniqueness({ client: ch.client, table: tableConfig({ final: true }) });
    expect(result.unique).toBe(false);
    expect(result.duplicates).toEqual([
      { cursor: { timestampMicros: parseMicros('2026-11-21T10:00:00Z'), sequence: 1n, tieBreakers: [] }, rows: 2 },
    ]);
  });

  it('passes once a tie-breaker makes the cursor unique', async () => {
    const result = await checkCursorUniqueness({ client: ch.client, table: tableConfig({ final: true, tieBreakerColumns: ['exchange'] }) });
    expect(result).toEqual({ table: 'silver_trades', unique: true, duplicates: [] });
  });

  it('reads like the offload: without FINAL unmerged versions count as duplicates', async () => {
    const result = await checkCursorUniqueness({ client: ch.client, table: tableConfig({ final: false, tieBreakerColumns: ['exchange'] }) });
    expect(result.duplicates.map((d) => [d.cursor.tieBreakers, d.rows])).toEqual([[['kraken'], 2]]);
  });

  it('can be limited to one window', async () => {
    const window = { after: INITIAL_CURSOR, untilMicros: parseMicros('2026-11-21T09:59:59Z') };
    const result = await checkCursorUniqueness({ client: ch.client, table: tableConfig({ final: true }), window });
    expect(result.unique).toBe(true);
  });

  it('names an unknown table or column instead of passing', async () => {
    await expect(checkCursorUniqueness({ client: ch.client, table: tableConfig({ source: 'k2.nope' }) })).rejects.toBeInstanceOf(UnknownTableError);
    await expect(checkCursorUniqueness({ client: ch.client, table: tableConfig({ tieBreakerColumns: ['venue'] }) })).rejects.toThrow(/has no column venue/);
  });
});
