import { truncate } from 'node:fs/promises';
import { createTempDir, startEmbeddedClickHouse } from '@coldtier/test-support';
import type { EmbeddedClickHouse, TempDir } from '@coldtier/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableSchema } from '../src/config/index.js';
import type { TableConfig } from '../src/config/index.js';
import type { Catalog } from '../src/iceberg/catalog/catalog.js';
import { FilesystemCatalog } from '../src/iceberg/catalog/filesystem.js';
import type { FileIO } from '../src/iceberg/io/file-io.js';
import { evolveSchema } from '../src/iceberg/schema-mapping/evolve.js';
import type { ClickHouseColumn } from '../src/iceberg/schema-mapping/evolve.js';
import type { DataFile } from '../src/iceberg/spec/data-file.js';
import type { PartitionSpec } from '../src/iceberg/spec/partition.js';
import type { IcebergSchema } from '../src/iceberg/spec/types.js';
import { fastAppend } from '../src/iceberg/transaction/fast-append.js';
import { ClickHouseParquetSource, describeClickHouseColumns } from '../src/iceberg/writer/clickhouse-parquet-source.js';
import { ClickHouseDataReader, ReconcileError, reconcile } from '../src/reconcile/index.js';
import type { DataReadRequest, IcebergDataReader, ReconcileOptions } from '../src/reconcile/index.js';
import { INITIAL_CURSOR, cursorToJson, parseMicros } from '../src/watermark/cursor.js';
import { interceptCatalog } from './iceberg-helpers.js';

let ch: EmbeddedClickHouse;
let temp: TempDir;
let catalog: FilesystemCatalog;
let columns: ClickHouseColumn[];
let schema: IcebergSchema;

const DAY_ROWS = [100, 150, 80];
const PENDING_ROWS = 20;
const FROM = new Date('2024-01-01T00:00:00Z');
const TO = new Date('2024-01-05T00:00:00Z');
// Offloads stop at the end of 3 January; 4 January's rows stay pending.
const UNTIL = parseMicros('2024-01-03T23:59:59.999999Z');

const sql = (query: string) => ch.client.command({ query });

/** `count` trades spread over one day, sequence numbers from `first`. */
const insertDay = (table: string, day: string, first: number, count: number) =>
  sql(`INSERT INTO k2.${table} SELECT 'binance', ${first} + number, toDecimal64(number, 8),
       toDateTime64('${day} 00:00:00', 3, 'UTC') + toIntervalMillisecond(intDiv(number * 86399000, ${count})), 1
       FROM numbers(${count})`);

function tableConfig(source: string, target: string): TableConfig {
  const parsed = tableSchema.parse({
    source: `k2.${source}`,
    target: `cold.${target}`,
    layer: 'bronze',
    timestampColumn: 'exchange_timestamp',
    sequenceColumn: 'sequence_number',
    final: true,
  });
  return { ...parsed, name: target, partitionBy: [] };
}

function spec(transform: 'day' | 'hour' | undefined): PartitionSpec {
  const ts = schema.fields.find((f) => f.name === 'exchange_timestamp')!;
  return { 'spec-id': 0, fields: transform ? [{ 'source-id': ts.id, 'field-id': 1000, name: `ts_${transform}`, transform }] : [] };
}

/** Offloads the source up to UNTIL into a new Iceberg table, as the embedded runner does. */
async function offload(config: TableConfig, transform: 'day' | 'hour' | undefined): Promise<readonly DataFile[]> {
  const id = { namespace: ['cold'], name: config.target.split('.')[1]! };
  await catalog.createTable(id, { schema, spec: spec(transform) });
  const source = new ClickHouseParquetSource(ch.client, { targetFileSizeBytes: 64 * 1024 * 1024 });
  const written = await source.writeWindow({
    table: { name: config.name, source: { namespace: 'k2', name: config.source.split('.')[1]! }, timestampColumn: config.timestampColumn, sequenceColumn: config.sequenceColumn, tieBreakerColumns: [], final: true },
    schema,
    columns,
    partitionSpec: spec(transform),
    window: { after: INITIAL_CURSOR, untilMicros: UNTIL },
    tableLocation: catalog.tableLocation(id),
    runId: `run-${config.name}`,
  });
  await fastAppend(catalog, id, written.dataFiles, {
    snapshotProperties: { 'coldtier.source-table': config.source, 'coldtier.watermark': JSON.stringify(cursorToJson(written.maxCursor!)) },
  });
  return written.dataFiles;
}

/** The catalog with a FileIO that records every location read. */
function recordingCatalog(reads: string[]): Catalog {
  const io: FileIO = {
    read: (l) => (reads.push(l), catalog.io.read(l)),
    write: (l, d) => catalog.io.write(l, d),
    create: (l, d) => catalog.io.create(l, d),
    exists: (l) => catalog.io.exists(l),
    delete: (l) => catalog.io.delete(l),
    list: (p) => catalog.io.list(p),
    stage: (l) => catalog.io.stage(l),
  };
  return interceptCatalog(catalog, { io });
}

/** A data reader that counts its calls before delegating to ClickHouse. */
function spyReader(): IcebergDataReader & { calls: DataReadRequest[] } {
  const inner = new ClickHouseDataReader(ch.client);
  const calls: DataReadRequest[] = [];
  return { calls, countRows: (request) => (calls.push(request), inner.countRows(request)) };
}

const run = (config: TableConfig, extra: Partial<ReconcileOptions> = {}) =>
  reconcile({ clickhouse: ch.client, catalog, table: config, from: FROM, to: TO, ...extra });

beforeAll(async () => {
  ch = await startEmbeddedClickHouse();
  temp = await createTempDir();
  catalog = new FilesystemCatalog({ warehouse: temp.path });
  await sql('CREATE DATABASE k2');
  await sql(`CREATE TABLE k2.trades (exchange LowCardinality(String), sequence_number UInt64, price Decimal64(8),
             exchange_timestamp DateTime64(3), _version UInt64)
             ENGINE = ReplacingMergeTree(_version) ORDER BY (exchange_timestamp, sequence_number)`);
  await sql('SYSTEM STOP MERGES k2.trades');
  let first = 0;
  for (const [i, count] of DAY_ROWS.entries()) {
    await insertDay('trades', `2024-01-0${i + 1}`, first, count);
    first += count;
  }
  // Unmerged replacements of ten rows: only FINAL counts them once, as the offload reads them.
  await sql('INSERT INTO k2.trades SELECT exchange, sequence_number, price + 1, exchange_timestamp, 2 FROM k2.trades WHERE sequence_number < 10');
  await insertDay('trades', '2024-01-04', 10_000, PENDING_ROWS);
  columns = await describeClickHouseColumns(ch.client, { namespace: 'k2', name: 'trades' });
  schema = evolveSchema(undefined, columns, { mode: 'fail' }).schema;
}, 120_000);

afterAll(async () => {
  await ch?.close();
  await temp?.remove();
});

describe('reconcile', () => {
  it('matches every day from the manifests alone, counting rows after the watermark as pending', async () => {
    const config = tableConfig('trades', 'all_ok');
    const files = await offload(config, 'day');
    const reads: string[] = [];
    const reader = spyReader();
    // Emptied data files: any attempt to read them would fail or miscount.
    await Promise.all(files.map((f) => truncate(f.filePath, 0)));
    const result = await reconcile({ clickhouse: ch.client, catalog: recordingCatalog(reads), table: config, from: FROM, to: TO, dataReader: reader });

    expect(result.source).toBe('metadata');
    expect(result.duplicatesExact).toBe(false);
    expect(reader.calls).toHaveLength(0);
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.filter((l) => l.endsWith('.parquet'))).toEqual([]);
    expect(result.ranges.map((r) => [r.start.toISOString().slice(0, 10), r.clickhouseRows, r.pendingRows, r.icebergRows, r.status])).toEqual([
      ['2024-01-01', 100, 0, 100, 'ok'],
      ['2024-01-02', 150, 0, 150, 'ok'],
      ['2024-01-03', 80, 0, 80, 'ok'],
      ['2024-01-04', 0, PENDING_ROWS, 0, 'ok'],
    ]);
    expect(result.totals).toEqual({ clickhouseRows: 330, pendingRows: PENDING_ROWS, icebergRows: 330, missing: 0, duplicates: 0, extra: 0, status: 'ok' });
    expect(result.watermark?.sequence).toBe('329');
    expect(result.to.toISOString()).toBe(TO.toISOString());
  });

  it('finds a double-committed file as duplicates in its day, inferred from metadata and exact from data', async () => {
    const config = tableConfig('trades', 'doubled');
    const files = await offload(config, 'day');
    const second = files.filter((f) => f.partition[0] === 19724);
    expect(second).toHaveLength(1);
    // Committed as another source's rows: its later watermark must not turn 4 January's pending rows into missing ones.
    const later = cursorToJson({ timestampMicros: parseMicros('2024-02-01T00:00:00Z'), sequence: 0n, tieBreakers: [] });
    await fastAppend(catalog, { namespace: ['cold'], name: 'doubled' }, second, {
      snapshotProperties: { 'coldtier.source-table': 'k2.other', 'coldtier.watermark': JSON.stringify(later) },
    });

    const inferred = await run(config);
    expect(inferred.source).toBe('metadata');
    expect(inferred.ranges.map((r) => [r.icebergRows, r.duplicates, r.status])).toEqual([
      [100, 0, 'ok'],
      [300, 150, 'duplicates'],
      [80, 0, 'ok'],
      [0, 0, 'ok'],
    ]);

    const exact = await run(config, { method: 'data', dataReader: new ClickHouseDataReader(ch.client) });
    expect(exact.source).toBe('data');
    expect(exact.duplicatesExact).toBe(true);
    expect(exact.ranges.map((r) => [r.icebergRows, r.duplicates, r.missing, r.extra, r.status])).toEqual([
      [100, 0, 0, 0, 'ok'],
      [300, 150, 0, 0, 'duplicates'],
      [80, 0, 0, 0, 'ok'],
      [0, 0, 0, 0, 'ok'],
    ]);
    expect(exact.totals.status).toBe('duplicates');
  });

  it('reports rows that arrived behind the watermark as missing on their day', async () => {
    await sql('CREATE TABLE k2.trades_late AS k2.trades');
    await sql('INSERT INTO k2.trades_late SELECT * FROM k2.trades FINAL');
    const config = tableConfig('trades_late', 'late');
    await offload(config, 'day');
    // Late rows: new sequence numbers stamped on 2 January, behind the watermark (3 January).
    await insertDay('trades_late', '2024-01-02', 20_000, 7);

    for (const extra of [{}, { method: 'data' as const, dataReader: new ClickHouseDataReader(ch.client) }]) {
      const result = await run(config, extra);
      expect(result.ranges.map((r) => [r.clickhouseRows, r.icebergRows, r.missing, r.pendingRows, r.status])).toEqual([
        [100, 100, 0, 0, 'ok'],
        [157, 150, 7, 0, 'missing'],
        [80, 80, 0, 0, 'ok'],
        [0, 0, 0, PENDING_ROWS, 'ok'],
      ]);
      expect(result.totals).toMatchObject({ missing: 7, status: 'missing' });
    }
  });

  it('reads the data when the partitioning is coarser than the granularity, and only then', async () => {
    const daily = tableConfig('trades', 'daily');
    await offload(daily, 'day');
    await expect(run(daily, { granularity: 'hour' })).rejects.toBeInstanceOf(ReconcileError);
    const reader = spyReader();
    const hourly = await run(daily, { granularity: 'hour', dataReader: reader });
    expect(hourly.source).toBe('data');
    expect(reader.calls).toHaveLength(1);
    expect(hourly.ranges).toHaveLength(96);
    expect(hourly.ranges.every((r) => r.status === 'ok')).toBe(true);
    expect(hourly.totals).toMatchObject({ clickhouseRows: 330, icebergRows: 330, pendingRows: PENDING_ROWS });

    const flat = tableConfig('trades', 'unpartitioned');
    await offload(flat, undefined);
    await expect(run(flat, { method: 'metadata' })).rejects.toThrow(/not partitioned by day or hour/);
    expect((await run(flat, { dataReader: reader })).totals.status).toBe('ok');
    expect(reader.calls).toHaveLength(2);
  });

  it('sums an hourly partitioned table into hours and days without reading data', async () => {
    const reader = spyReader();
    const byHour = tableConfig('trades', 'by_hour');
    await offload(byHour, 'hour');
    for (const granularity of ['hour', 'day'] as const) {
      const result = await run(byHour, { granularity, dataReader: reader });
      expect(result.source).toBe('metadata');
      expect(result.totals).toMatchObject({ clickhouseRows: 330, icebergRows: 330, status: 'ok' });
      expect(result.ranges).toHaveLength(granularity === 'hour' ? 96 : 4);
    }
    expect(reader.calls).toHaveLength(0);
  }, 60_000);
});
