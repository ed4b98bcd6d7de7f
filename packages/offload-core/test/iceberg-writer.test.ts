import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempDir, startEmbeddedClickHouse } from '@coldtier/test-support';
import type { EmbeddedClickHouse, TempDir } from '@coldtier/test-support';
import { INITIAL_CURSOR, parseMicros } from '../src/watermark/cursor.js';
import type { Cursor } from '../src/watermark/cursor.js';
import { evolveSchema } from '../src/iceberg/schema-mapping/evolve.js';
import type { ClickHouseColumn } from '../src/iceberg/schema-mapping/evolve.js';
import { selectExpression } from '../src/iceberg/schema-mapping/type-mapping.js';
import { parseClickHouseType } from '../src/iceberg/schema-mapping/clickhouse-type.js';
import { ClickHouseParquetSource, describeClickHouseColumns } from '../src/iceberg/writer/clickhouse-parquet-source.js';
import type { ParquetExportMode, ParquetSourceTable, WriteWindowRequest } from '../src/iceberg/writer/clickhouse-parquet-source.js';
import { readParquetFooter, schemaTree, SchemaElementField } from '../src/iceberg/parquet/footer.js';
import type { SchemaNode } from '../src/iceberg/parquet/footer.js';
import { getI32 } from '../src/iceberg/parquet/thrift-compact.js';
import { valueFromBytes } from '../src/iceberg/spec/values.js';
import type { PartitionSpec } from '../src/iceberg/spec/partition.js';
import type { IcebergSchema, NestedField, StructType } from '../src/iceberg/spec/types.js';
import { LocalFileIO } from '../src/iceberg/io/local.js';

let ch: EmbeddedClickHouse;
let temp: TempDir;
let columns: ClickHouseColumn[];
let schema: IcebergSchema;

const SOURCE = { namespace: 'k2', name: 'bronze_trades' };
const TABLE: ParquetSourceTable = {
  name: 'bronze_trades',
  source: SOURCE,
  timestampColumn: 'exchange_timestamp',
  sequenceColumn: 'sequence_number',
  tieBreakerColumns: ['exchange', 'canonical_symbol'],
  final: true,
};
const UNTIL = parseMicros('2024-01-10T00:00:00Z');
const U64_MAX = 18446744073709551615n;

async function sql(query: string): Promise<void> {
  await ch.client.command({ query });
}

async function rows<T>(query: string): Promise<T[]> {
  return (await ch.client.query({ query, format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 1 } })).json<T>();
}

function daySpec(): PartitionSpec {
  const ts = schema.fields.find((f) => f.name === 'exchange_timestamp')!;
  return { 'spec-id': 0, fields: [{ 'source-id': ts.id, 'field-id': 1000, name: 'exchange_timestamp_day', transform: 'day' }] };
}

let run = 0;
let exportMode: ParquetExportMode = 'stream';
async function write(overrides: Partial<WriteWindowRequest> = {}, target = 512 * 1024 * 1024, initialRows?: number) {
  const source = new ClickHouseParquetSource(ch.client, {
    targetFileSizeBytes: target,
    exportMode,
    ...(initialRows ? { initialRowsPerFile: initialRows } : {}),
  });
  const location = join(temp.path, `t${run}`);
  const result = await source.writeWindow({
    table: TABLE,
    schema,
    columns,
    partitionSpec: daySpec(),
    window: { after: INITIAL_CURSOR, untilMicros: UNTIL },
    tableLocation: location,
    runId: `run${run++}`,
    ...overrides,
  });
  return { ...result, glob: `${location}/data/*/*.parquet` };
}

beforeAll(async () => {
  ch = await startEmbeddedClickHouse();
  temp = await createTempDir();
  await sql('CREATE DATABASE k2');
  await sql(`CREATE TABLE k2.bronze_trades (
    exchange LowCardinality(String), symbol LowCardinality(String), canonical_symbol LowCardinality(String),
    sequence_number UInt64, trade_id String, price Decimal64(8), quantity Decimal64(8), quote_volume Decimal64(8),
    side Enum8('buy' = 1, 'sell' = 2), exchange_timestamp DateTime64(3), platform_timestamp DateTime64(3),
    ingested_at DateTime64(3) DEFAULT now64(), schema_version LowCardinality(String), metadata String, _version UInt64,
    tags Array(String), attrs Map(String, String), fee Nullable(Float64), trade_uuid UUID, trade_date Date, is_maker Bool,
    quote Tuple(bid Decimal64(8), ask Decimal64(8))
  ) ENGINE = ReplacingMergeTree(_version)
  ORDER BY (exchange, canonical_symbol, exchange_timestamp, sequence_number)`);
  // 2000 trades over ~2.3 days; pairs of trades share a millisecond timestamp.
  const insert = (version: string, where: string) =>
    sql(`INSERT INTO k2.bronze_trades SELECT
      if(number % 3 = 0, 'kraken', 'binance'), 'BTC/USD', 'BTCUSD', number, concat('t', toString(number)),
      toDecimal64(number / 7 + ${version === '1' ? 0 : 1000}, 8), toDecimal64(1.5, 8), toDecimal64(number * 1.5, 8),
      if(number % 2 = 0, 'buy', 'sell'),
      toDateTime64('2024-01-01 00:00:00', 3, 'UTC') + toIntervalMillisecond(intDiv(number, 2) * 200003),
      toDateTime64('2024-01-01 00:00:00', 3, 'UTC'), now64(), 'v2', '{}',
      if(number = 500, ${U64_MAX}, ${version}),
      arrayMap(i -> toString(i), range(number % 4)), map('k', toString(number % 5)),
      if(number % 10 = 0, NULL, number / 3), generateUUIDv4(), toDate('2024-01-01') + number % 3, number % 2 = 1,
      tuple(toDecimal64(number, 8), toDecimal64(number + 0.5, 8))
      FROM numbers(2000) WHERE ${where}`);
  await sql('SYSTEM STOP MERGES k2.bronze_trades');
  await insert('1', '1');
  await insert('2', 'number < 100');
  columns = await describeClickHouseColumns(ch.client, SOURCE);
  schema = evolveSchema(undefined, columns, { mode: 'fail' }).schema;
}, 120_000);

afterAll(async () => {
  await ch?.close();
  await temp?.remove();
});

function checksumSql(from: string, expression: (c: ClickHouseColumn) => string, where = ''): string {
  const parts = columns.map((c) => `toString(groupBitXor(cityHash64(toString(${expression(c)})))) AS ${c.name}`);
  return `SELECT toString(count()) AS n, ${parts.join(', ')} FROM ${from} ${where}`;
}

describe.each(['stream', 'server-side'] as const)('ClickHouseParquetSource, %s export', (mode) => {
  beforeAll(() => {
    exportMode = mode;
  });

  it('writes files ClickHouse reads back with the same data, one set per day', async () => {
    const written = await write();
    const cast = (c: ClickHouseColumn) => selectExpression(c.name, schema.fields.find((f) => f.name === c.name)!.type, parseClickHouseType(c.type));
    const [expected] = await rows<Record<string, string>>(checksumSql('k2.bronze_trades FINAL', cast));
    const [actual] = await rows<Record<string, string>>(checksumSql(`file('${written.glob}', 'Parquet')`, (c) => `\`${c.name}\``));
    expect(actual).toEqual(expected);
    expect(expected!['n']).toBe('2000');
    expect(written.rowCount).toBe(2000n);
    const days = written.dataFiles.map((f) => f.partition[0]);
    expect(new Set(days)).toEqual(new Set([19723, 19724, 19725]));
    expect(written.dataFiles.every((f) => f.filePath.includes(`exchange_timestamp_day=`))).toBe(true);
  });

  it('partitioned by hour of the timestamp, selects each hour by its time range: every row once, each in its own hour', async () => {
    const ts = schema.fields.find((f) => f.name === 'exchange_timestamp')!;
    const hourly: PartitionSpec = { 'spec-id': 0, fields: [{ 'source-id': ts.id, 'field-id': 1000, name: 'exchange_timestamp_hour', transform: 'hour' }] };
    const written = await write({ partitionSpec: hourly });
    expect(written.rowCount).toBe(2000n);
    expect(written.dataFiles.length).toBeGreaterThan(50);
    const [total] = await rows<{ n: string; ids: string }>(
      `SELECT toString(count()) AS n, toString(uniqExact(trade_id)) AS ids FROM file('${written.glob}', 'Parquet')`,
    );
    expect(total).toEqual({ n: '2000', ids: '2000' });
    for (const file of written.dataFiles) {
      const [check] = await rows<{ outside: string }>(
        `SELECT toString(countIf(intDiv(toUnixTimestamp64Micro(exchange_timestamp), 3600000000) != ${file.partition[0]})) AS outside FROM file('${file.filePath}', 'Parquet')`,
      );
      expect(check?.outside, file.filePath).toBe('0');
    }
  });

  it('puts Iceberg field ids on every schema element, nested ones included', async () => {
    const written = await write();
    const footer = await readParquetFooter(written.dataFiles[0]!.filePath);
    const root = schemaTree(footer.metadata);
    const idOf = (node: SchemaNode) => getI32(node.element, SchemaElementField.fieldId);
    const child = (node: SchemaNode, name: string) => node.children.find((c) => c.name === name)!;
    const field = (name: string): NestedField => schema.fields.find((f) => f.name === name)!;
    for (const node of root.children) expect(idOf(node)).toBe(field(node.name).id);
    expect(idOf(root)).toBeUndefined();
    const tags = field('tags').type as { 'element-id': number };
    const list = child(child(root, 'tags'), 'list');
    expect(idOf(list)).toBeUndefined();
    expect(idOf(child(list, 'element'))).toBe(tags['element-id']);
    const attrs = field('attrs').type as { 'key-id': number; 'value-id': number };
    const kv = child(child(root, 'attrs'), 'key_value');
    expect([idOf(child(kv, 'key')), idOf(child(kv, 'value'))]).toEqual([attrs['key-id'], attrs['value-id']]);
    const quote = field('quote').type as StructType;
    expect(child(root, 'quote').children.map(idOf)).toEqual(quote.fields.map((f) => f.id));
    // Ids follow Iceberg's order: 22 columns first, then nested fields.
    expect(schema.fields.map((f) => f.id)).toEqual(Array.from({ length: 22 }, (_, i) => i + 1));
    expect(tags['element-id']).toBe(23);
  });

  it('reports counts and bounds that match the data', async () => {
    const written = await write();
    const id = (name: string) => schema.fields.find((f) => f.name === name)!.id;
    for (const file of written.dataFiles) {
      const micros = `toUnixTimestamp64Micro(toDateTime64(exchange_timestamp, 6, 'UTC'))`;
      const [stats] = await rows<Record<string, string>>(
        `SELECT toString(count()) AS n, toString(countIf(isNull(fee))) AS nulls, toString(min(${micros})) AS lo, toString(max(${micros})) AS hi,
          toString(min(price)) AS plo, toString(max(price)) AS phi, toString(max(quote.2)) AS ahi
         FROM file('${file.filePath}', 'Parquet')`,
      );
      expect(file.recordCount).toBe(BigInt(stats!['n']!));
      expect(file.valueCounts.get(id('exchange'))).toBe(file.recordCount);
      expect(file.nullValueCounts.get(id('fee'))).toBe(BigInt(stats!['nulls']!));
      const ts = id('exchange_timestamp');
      expect(valueFromBytes('timestamptz', file.lowerBounds.get(ts)!)).toBe(BigInt(stats!['lo']!));
      expect(valueFromBytes('timestamptz', file.upperBounds.get(ts)!)).toBe(BigInt(stats!['hi']!));
      const decimal = (bytes: Uint8Array | undefined) => (valueFromBytes('decimal(18, 8)', bytes!) as bigint).toString();
      expect(decimal(file.lowerBounds.get(id('price')))).toBe(stats!['plo']!.replace('.', '').replace(/^0+/, '') || '0');
      const ask = (schema.fields.find((f) => f.name === 'quote')!.type as StructType).fields[1]!.id;
      expect(Number(decimal(file.upperBounds.get(ask))) / 1e8).toBe(Number(stats!['ahi']));
      const tags = schema.fields.find((f) => f.name === 'tags')!.type as { 'element-id': number };
      expect(file.lowerBounds.has(tags['element-id'])).toBe(false);
      expect(file.valueCounts.get(tags['element-id'])).toBeGreaterThan(0n);
      expect(file.splitOffsets[0]).toBe(4n);
    }
  });

  it('reads with FINAL so unmerged duplicates do not reach the files', async () => {
    const withFinal = await write();
    const without = await write({ table: { ...TABLE, final: false } });
    expect(withFinal.rowCount).toBe(2000n);
    expect(without.rowCount).toBe(2100n);
    const [row] = await rows<{ price: string }>(`SELECT toString(price) AS price FROM file('${withFinal.glob}', 'Parquet') WHERE trade_id = 't5'`);
    expect(Number(row!.price)).toBeCloseTo(5 / 7 + 1000, 6);
  });

  it('starts strictly after the watermark cursor, keeping rows that share its timestamp', async () => {
    // Trades 10 and 11 share a timestamp; both are binance, BTCUSD.
    const [t] = await rows<{ ts: string }>(`SELECT toString(toUnixTimestamp64Micro(toDateTime64(exchange_timestamp, 6, 'UTC'))) AS ts FROM k2.bronze_trades WHERE sequence_number = 10`);
    const after: Cursor = { timestampMicros: BigInt(t!.ts), sequence: 10n, tieBreakers: ['binance', 'BTCUSD'] };
    const written = await write({ window: { after, untilMicros: BigInt(t!.ts) } });
    const seqs = await rows<{ s: string }>(`SELECT toString(sequence_number) AS s FROM file('${written.glob}', 'Parquet') ORDER BY s`);
    expect(seqs.map((r) => r.s)).toEqual(['11']);
    expect(written.maxCursor).toEqual({ timestampMicros: BigInt(t!.ts), sequence: 11n, tieBreakers: ['binance', 'BTCUSD'] });
  });

  it('keeps a UInt64 above 2^63 exact, in the data and in the bounds', async () => {
    const written = await write();
    const [row] = await rows<{ v: string }>(`SELECT toString(_version) AS v FROM file('${written.glob}', 'Parquet') WHERE sequence_number = 500`);
    expect(row!.v).toBe(U64_MAX.toString());
    const version = schema.fields.find((f) => f.name === '_version')!;
    expect(version.type).toBe('decimal(20, 0)');
    const uppers = written.dataFiles.map((f) => valueFromBytes('decimal(20, 0)', f.upperBounds.get(version.id)!) as bigint);
    expect(uppers).toContain(U64_MAX);
  });

  it('rolls files at the target size without losing or repeating rows', async () => {
    const written = await write({}, 16 * 1024, 100);
    const perDay = new Map<unknown, number>();
    for (const f of written.dataFiles) perDay.set(f.partition[0], (perDay.get(f.partition[0]) ?? 0) + 1);
    expect([...perDay.values()].every((n) => n > 1)).toBe(true);
    const [r] = await rows<{ n: string; d: string }>(
      `SELECT toString(count()) AS n, toString(uniqExact(exchange, canonical_symbol, sequence_number)) AS d FROM file('${written.glob}', 'Parquet')`,
    );
    expect(r).toEqual({ n: '2000', d: '2000' });
    const files = await readdir(join(written.glob, '..', '..'), { recursive: true });
    expect(files.filter((f) => f.endsWith('.partial'))).toEqual([]);
    const [max] = await rows<{ s: string }>(`SELECT toString(max(sequence_number)) AS s FROM k2.bronze_trades`);
    expect(written.maxCursor?.sequence).toBe(BigInt(max!.s));
  });

  it('a publish that fails (while the next file is written) fails the window and leaves no staged file', async () => {
    /** Local storage whose first publish fails, as an upload whose retries ran out would. */
    class FailingFirstPublish extends LocalFileIO {
      publishes = 0;
      private fail<T extends unknown[]>(publish: (...args: T) => Promise<void>): (...args: T) => Promise<void> {
        return async (...args) => {
          if (this.publishes++ === 0) throw new Error('upload failed');
          await publish(...args);
        };
      }
      override async stage(location: string) {
        const staged = await super.stage(location);
        return { ...staged, publish: this.fail(staged.publish) };
      }
      override async stageObject(location: string) {
        const staged = await super.stageObject(location);
        return { ...staged, publishWithTail: this.fail(staged.publishWithTail) };
      }
    }
    const io = new FailingFirstPublish();
    const location = join(temp.path, `failing-publish-${mode}`);
    await expect(write({ io, tableLocation: location }, 16 * 1024, 100)).rejects.toThrow(/upload failed|publishing .* failed/);
    expect(io.publishes).toBeGreaterThan(0);
    const left = await readdir(location, { recursive: true });
    expect(left.filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  it('cuts a partition into files of disjoint timestamp ranges, rows sharing a timestamp in one file', async () => {
    const written = await write({}, 16 * 1024, 100);
    const ts = schema.fields.find((f) => f.name === 'exchange_timestamp')!.id;
    const byDay = new Map<unknown, { lo: bigint; hi: bigint }[]>();
    for (const f of written.dataFiles) {
      const range = { lo: valueFromBytes('timestamptz', f.lowerBounds.get(ts)!) as bigint, hi: valueFromBytes('timestamptz', f.upperBounds.get(ts)!) as bigint };
      byDay.set(f.partition[0], [...(byDay.get(f.partition[0]) ?? []), range]);
    }
    for (const ranges of byDay.values()) {
      ranges.forEach((r, i) => {
        if (i > 0) expect(r.lo).toBeGreaterThan(ranges[i - 1]!.hi);
      });
    }
    const [last] = await rows<{ ts: string; s: string }>(
      `SELECT toString(toUnixTimestamp64Micro(toDateTime64(exchange_timestamp, 6, 'UTC'))) AS ts, toString(sequence_number) AS s
       FROM k2.bronze_trades FINAL ORDER BY exchange_timestamp DESC, sequence_number DESC, exchange DESC, canonical_symbol DESC LIMIT 1`,
    );
    expect(written.maxCursor).toMatchObject({ timestampMicros: BigInt(last!.ts), sequence: BigInt(last!.s) });
  });
});
