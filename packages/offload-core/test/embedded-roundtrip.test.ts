import { createTempDir, startEmbeddedClickHouse } from '@coldtier/test-support';
import type { EmbeddedClickHouse, TempDir } from '@coldtier/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import type { Catalog } from '../src/iceberg/catalog/catalog.js';
import { FilesystemCatalog } from '../src/iceberg/catalog/filesystem.js';
import { SqlCatalog } from '../src/iceberg/catalog/sql.js';
import { LocalFileIO } from '../src/iceberg/io/local.js';
import type { ClickHouseColumn } from '../src/iceberg/schema-mapping/evolve.js';
import { currentSnapshot, defaultSpec } from '../src/iceberg/spec/table-metadata.js';
import { mainAncestry } from '../src/iceberg/transaction/table-scan.js';
import { describeClickHouseColumns } from '../src/iceberg/writer/clickhouse-parquet-source.js';
import { EmbeddedIcebergRunner } from '../src/runner/embedded/embedded-runner.js';
import { SUMMARY_RUN_ID, SUMMARY_SOURCE_TABLE, SUMMARY_WATERMARK, committedWatermarkOf } from '../src/runner/embedded/summary.js';
import { TARGET_TABLE_PROPERTIES } from '../src/runner/embedded/target-table.js';
import { InMemoryWatermarkStore } from '../src/testing/memory-store.js';
import { cursorFromJson, cursorToJson } from '../src/watermark/cursor.js';
import type { Cursor } from '../src/watermark/cursor.js';
import { PostgresWatermarkStore } from '../src/watermark/postgres-store.js';
import type { WatermarkStore } from '../src/watermark/store.js';
import { bronzeDdl, bronzeInsert, checksumQuery, cycles, readIceberg, tableConfig, useMigratedDatabase } from './embedded-helpers.js';

let ch: EmbeddedClickHouse;
let temp: TempDir;

beforeAll(async () => {
  ch = await startEmbeddedClickHouse();
  temp = await createTempDir();
  await ch.client.command({ query: 'CREATE DATABASE k2' });
});
afterAll(async () => {
  await ch?.close();
  await temp?.remove();
});

async function sql(query: string): Promise<void> {
  await ch.client.command({ query });
}

async function one<T>(query: string): Promise<T> {
  const result = await ch.client.query({ query, format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 1 } });
  return (await result.json<T>())[0]!;
}

/** The cursor of the source's last row at or before `until`. */
async function lastSourceCursor(source: string, until: Date): Promise<Cursor> {
  const row = await one<{ ts: string; seq: string }>(
    `SELECT toString(toUnixTimestamp64Micro(exchange_timestamp)) AS ts, toString(sequence_number) AS seq FROM ${source} FINAL
     WHERE exchange_timestamp <= toDateTime64('${until.toISOString()}', 3, 'UTC')
     ORDER BY exchange_timestamp DESC, sequence_number DESC LIMIT 1`,
  );
  return { timestampMicros: BigInt(row.ts), sequence: BigInt(row.seq), tieBreakers: [] };
}

/**
 * Two cycles over the bronze table, new rows in between (one sharing the
 * first watermark's timestamp with a higher sequence), then the table read
 * back by ClickHouse's Iceberg reader must equal the source column by column.
 */
async function roundTrip(name: string, catalog: Catalog, store: WatermarkStore, runner: EmbeddedIcebergRunner): Promise<void> {
  const source = `k2.${name}`;
  const table = tableConfig({ name });
  await sql(bronzeDdl(source));
  await sql(bronzeInsert(source, 0, 600));
  // A second version of some rows: read with FINAL, only the newest may reach Iceberg.
  await sql(`SYSTEM STOP MERGES ${source}`);
  await sql(bronzeInsert(source, 0, 50, 2));
  const clock = new ManualClock(new Date('2024-01-01T12:00:00Z'));
  const orchestrator = cycles([table], store, runner, clock);

  const first = await orchestrator.runCycle();
  expect(first.status).toBe('success');
  const watermark = (await store.get(name))!.cursor;
  expect(watermark).toEqual(await lastSourceCursor(source, new Date('2024-01-01T11:55:00Z')));
  const id = { namespace: ['cold'], name };
  const afterFirst = await catalog.loadTable(id);
  expect(committedWatermarkOf(afterFirst.metadata, source)).toEqual(watermark);

  // Late rows: one at the watermark's own timestamp with a higher sequence, and more after it.
  await sql(bronzeInsert(source, 600, 1000));
  await sql(
    `INSERT INTO ${source} (exchange, symbol, canonical_symbol, sequence_number, trade_id, price, quantity, quote_volume, side,
       exchange_timestamp, platform_timestamp, schema_version, metadata, _version, tags, attrs, fee)
     VALUES ('binance', 'BTC/USD', 'BTCUSD', ${watermark.sequence + 1_000_000n}, 'late', 1.5, 1, 1.5, 'buy',
       fromUnixTimestamp64Micro(${watermark.timestampMicros}, 'UTC'), now64(), 'v2', '{}', 1, ['late'], map('late', 'yes'), NULL)`,
  );
  clock.set(new Date('2024-01-03T00:00:00Z'));
  const second = await orchestrator.runCycle();
  expect(second.status).toBe('success');
  expect(second.tables[0]).toMatchObject({ status: 'success', rows: 1000 - Number(first.totalRows) + 1 });

  const loaded = await catalog.loadTable(id);
  const columns: ClickHouseColumn[] = await describeClickHouseColumns(ch.client, { namespace: 'k2', name });
  const expected = await one<Record<string, string>>(checksumQuery(columns, `${source} FINAL`));
  const [actual] = await readIceberg<Record<string, string>>(ch.client, temp.path, loaded, (from) => checksumQuery(columns, from));
  expect(expected['rows']).toBe('1001');
  expect(actual).toEqual(expected);
  const [late] = await readIceberg<{ n: string }>(ch.client, temp.path, loaded, (from) => `SELECT toString(count()) AS n FROM ${from} WHERE trade_id = 'late'`);
  expect(late?.n).toBe('1');

  // Two appends, each saying who wrote it, from where, and up to which row; totals as the spec's.
  const [latest, previous] = mainAncestry(loaded.metadata);
  const runs = await store.recentRuns({ table: name });
  expect(latest?.summary).toMatchObject({
    operation: 'append',
    [SUMMARY_RUN_ID]: runs[0]!.runId,
    [SUMMARY_SOURCE_TABLE]: source,
    'added-records': String(second.totalRows),
    'total-records': '1001',
  });
  expect(previous?.summary).toMatchObject({ [SUMMARY_RUN_ID]: runs[1]!.runId, 'total-records': String(first.totalRows) });
  expect(Number(latest?.summary['total-data-files'])).toBeGreaterThan(Number(previous?.summary['total-data-files']));
  const stored = (await store.get(name))!.cursor;
  expect(cursorFromJson(JSON.parse(latest!.summary[SUMMARY_WATERMARK]!))).toEqual(stored);
  expect(latest!.summary[SUMMARY_WATERMARK]).toBe(JSON.stringify(cursorToJson(stored)));
  expect(runs[0]!.snapshotId).toBe(latest!.snapshotId.toString());

  // Created as configured: format 2, day partitions on the timestamp, the reference's properties.
  expect(loaded.metadata.formatVersion).toBe(2);
  expect(loaded.metadata.properties).toMatchObject(TARGET_TABLE_PROPERTIES);
  expect(loaded.metadata.properties['history.expire.max-snapshot-age-ms']).toBe('604800000');
  expect(defaultSpec(loaded.metadata).fields).toMatchObject([{ name: 'exchange_timestamp_day', transform: 'day' }]);
  expect(currentSnapshot(loaded.metadata)?.snapshotId).toBe(latest?.snapshotId);
}

describe('EmbeddedIcebergRunner round trip, read back by ClickHouse icebergLocal', () => {
  it('filesystem catalog: two cycles land every bronze row once, Arrays and Maps included', async () => {
    const catalog = new FilesystemCatalog({ warehouse: `${temp.path}/fs` });
    const store = new InMemoryWatermarkStore();
    const atCommit: (Cursor | undefined)[] = [];
    const runner = new EmbeddedIcebergRunner({
      clickhouse: ch.client,
      catalog,
      targetFileSizeBytes: 16 * 1024,
      onStage: async (stage) => {
        if (stage === 'committed') atCommit.push((await store.get('bronze_fs'))?.cursor);
      },
    });
    await roundTrip('bronze_fs', catalog, store, runner);
    // Without a shared database the orchestrator advances the watermark after the commit.
    const runs = await store.recentRuns({ table: 'bronze_fs' });
    expect(atCommit).toEqual([runs[1]!.window.after, runs[0]!.window.after]);
  });

  describe('SQL catalog sharing the watermark store database', () => {
    const db = useMigratedDatabase();

    it('advances the watermark in the commit transaction and round-trips the same data', async () => {
      const catalog = new SqlCatalog({ name: 'coldtier', pool: db.pool, io: new LocalFileIO(), warehouse: `${temp.path}/sql` });
      await catalog.initialize();
      const store = new PostgresWatermarkStore({ pool: db.pool });
      const atCommit: (Cursor | null | undefined)[][] = [];
      const runner = new EmbeddedIcebergRunner({
        clickhouse: ch.client,
        catalog,
        sharedTransaction: { store },
        onStage: async (stage, info) => {
          if (stage === 'committed') atCommit.push([(await store.get('bronze_sql'))?.cursor, info.maxCursor]);
        },
      });
      await roundTrip('bronze_sql', catalog, store, runner);
      // The watermark had advanced with the pointer swap, before the runner even returned.
      expect(atCommit).toHaveLength(2);
      for (const [stored, written] of atCommit) expect(stored).toEqual(written);
      const runs = await store.recentRuns({ table: 'bronze_sql' });
      expect(runs.map((r) => r.outcome)).toEqual(['success', 'success']);
      expect(runs.every((r) => r.snapshotId !== null)).toBe(true);
    });
  });
});
