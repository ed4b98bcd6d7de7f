import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempDir, startEmbeddedClickHouse } from '@coldtier/test-support';
import type { EmbeddedClickHouse, TempDir } from '@coldtier/test-support';
import { TType, decodeStruct, encodeStruct, getI32 } from '../src/iceberg/parquet/thrift-compact.js';
import type { ThriftStruct } from '../src/iceberg/parquet/thrift-compact.js';
import { ParquetFooterError, PhysicalType, SchemaElementField, readParquetFooter, schemaTree } from '../src/iceberg/parquet/footer.js';
import { FieldIdMappingError } from '../src/iceberg/parquet/field-ids.js';
import { footerMetrics, toIcebergBound } from '../src/iceberg/parquet/metrics.js';
import { rewriteWithFieldIds } from '../src/iceberg/parquet/rewrite.js';
import { evolveSchema } from '../src/iceberg/schema-mapping/evolve.js';
import { valueFromBytes } from '../src/iceberg/spec/values.js';

let ch: EmbeddedClickHouse;
let temp: TempDir;
let original: string;

const COLUMNS = [
  { name: 'id', type: 'Int64' },
  { name: 'name', type: 'Nullable(String)' },
  { name: 'tags', type: 'Array(String)' },
  { name: 'attrs', type: 'Map(String, Int32)' },
  { name: 'point', type: 'Tuple(x Float64, y Float64)' },
];

beforeAll(async () => {
  ch = await startEmbeddedClickHouse();
  temp = await createTempDir();
  original = join(temp.path, 'original.parquet');
  await ch.client.command({
    query: `INSERT INTO FUNCTION file('${original}', 'Parquet')
      SELECT toInt64(number) AS id, if(number % 4 = 0, NULL, repeat('n', number % 7)) AS name,
        arrayMap(i -> toString(i), range(number % 3)) AS tags, map('a', toInt32(number)) AS attrs,
        CAST((number / 2, -number / 2) AS Tuple(x Float64, y Float64)) AS point
      FROM numbers(1000) SETTINGS output_format_parquet_row_group_size = 300`,
  });
}, 60_000);

afterAll(async () => {
  await ch?.close();
  await temp?.remove();
});

describe('Thrift compact codec', () => {
  it('re-encodes a decoded struct byte for byte, long field-id jumps and big lists included', () => {
    const inner: ThriftStruct = new Map([[1, { type: TType.Binary, value: new TextEncoder().encode('x') }]]);
    const struct: ThriftStruct = new Map<number, Parameters<ThriftStruct['set']>[1]>([
      [1, { type: TType.I32, value: -7 }],
      [2, { type: TType.True, value: true }],
      [40, { type: TType.I64, value: -(2n ** 62n) }],
      [41, { type: TType.List, elementType: TType.Struct, value: Array.from({ length: 20 }, () => ({ type: TType.Struct, value: inner })) }],
      [42, { type: TType.List, elementType: TType.True, value: [{ type: TType.False, value: false }, { type: TType.True, value: true }] }],
      [43, { type: TType.Map, keyType: TType.Binary, valueType: TType.Double, value: [[{ type: TType.Binary, value: new Uint8Array([1]) }, { type: TType.Double, value: 1.5 }]] }],
    ]);
    const bytes = encodeStruct(struct);
    const { struct: decoded, end } = decodeStruct(bytes);
    expect(end).toBe(bytes.length);
    expect(decoded).toEqual(struct);
    expect(encodeStruct(decoded)).toEqual(bytes);
  });

  it('writes the protocol bytes of integers on both sides of the small-number fast path', () => {
    // Field 1, then zigzag varints: 300 → 600; -2^31 → 2^32 - 1 (five bytes); 2^27 and 2^28 straddle four varint bytes.
    const cases: [ThriftStruct, number[]][] = [
      [new Map([[1, { type: TType.I32, value: 300 }]]), [0x15, 0xd8, 0x04, 0]],
      [new Map([[1, { type: TType.I32, value: -(2 ** 31) }]]), [0x15, 0xff, 0xff, 0xff, 0xff, 0x0f, 0]],
      [new Map([[1, { type: TType.I32, value: 2 ** 31 - 1 }]]), [0x15, 0xfe, 0xff, 0xff, 0xff, 0x0f, 0]],
      [new Map([[1, { type: TType.I64, value: 2n ** 27n }]]), [0x16, 0x80, 0x80, 0x80, 0x80, 0x01, 0]],
      [new Map([[1, { type: TType.I64, value: -(2n ** 26n) - 1n }]]), [0x16, 0x81, 0x80, 0x80, 0x40, 0]],
      [new Map([[1, { type: TType.I64, value: 2n ** 63n - 1n }]]), [0x16, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0]],
    ];
    for (const [struct, bytes] of cases) {
      expect(Array.from(encodeStruct(struct))).toEqual(bytes);
      expect(decodeStruct(new Uint8Array(bytes)).struct).toEqual(struct);
    }
  });
});

describe('footer rewrite', () => {
  it('re-encodes a ClickHouse footer exactly, so unknown fields survive', async () => {
    const footer = await readParquetFooter(original);
    const bytes = await readFile(original);
    expect(encodeStruct(footer.metadata)).toEqual(new Uint8Array(bytes.subarray(footer.footerStart, bytes.length - 8)));
  });

  it('sets field ids and leaves every byte before the footer untouched', async () => {
    const path = join(temp.path, 'rewritten.parquet');
    await copyFile(original, path);
    const { schema } = evolveSchema(undefined, COLUMNS, { mode: 'fail' });
    const before = await readFile(path);
    const { fileSizeInBytes, metrics } = await rewriteWithFieldIds(path, schema);
    const after = await readFile(path);
    const footer = await readParquetFooter(path);
    expect(fileSizeInBytes).toBe(BigInt(after.length));
    expect(after.subarray(0, footer.footerStart)).toEqual(before.subarray(0, footer.footerStart));
    const ids = (node: ReturnType<typeof schemaTree>): unknown => [getI32(node.element, SchemaElementField.fieldId) ?? null, ...node.children.map(ids)];
    // id, name, tags(list(element)), attrs(key_value(key, value)), point(x, y); Iceberg order: 1-5 then 6, 7/8, 9/10.
    expect(ids(schemaTree(footer.metadata))).toEqual([null, [1], [2], [3, [null, [6]]], [4, [null, [7], [8]]], [5, [9], [10]]]);
    const [row] = await (
      await ch.client.query({ query: `SELECT count() AS n, sum(id) AS s, sum(length(tags)) AS t, countIf(isNull(name)) AS z FROM file('${path}', 'Parquet')`, format: 'JSONEachRow' })
    ).json<Record<string, number | string>>();
    expect(row).toEqual({ n: 1000, s: 499500, t: 999, z: 250 });

    expect(metrics.recordCount).toBe(1000n);
    const [meta] = await (
      await ch.client.query({ query: `SELECT num_row_groups FROM file('${path}', 'ParquetMetadata')`, format: 'JSONEachRow' })
    ).json<{ num_row_groups: number }>();
    expect(meta!.num_row_groups).toBeGreaterThan(1);
    expect(metrics.splitOffsets).toHaveLength(meta!.num_row_groups);
    expect(metrics.splitOffsets[0]).toBe(4n);
    expect(metrics.valueCounts.get(1)).toBe(1000n);
    expect(metrics.nullValueCounts.get(2)).toBe(250n);
    expect(valueFromBytes('long', metrics.lowerBounds.get(1)!)).toBe(0n);
    expect(valueFromBytes('long', metrics.upperBounds.get(1)!)).toBe(999n);
    expect(valueFromBytes('string', metrics.upperBounds.get(2)!)).toBe('nnnnnn');
    expect(valueFromBytes('double', metrics.lowerBounds.get(10)!)).toBe(-499.5);
    expect(metrics.lowerBounds.has(6)).toBe(false);
    expect(metrics.lowerBounds.has(7)).toBe(false);
  });

  it('refuses a file whose columns the Iceberg schema lacks, and a non-Parquet file', async () => {
    const path = join(temp.path, 'mismatch.parquet');
    await copyFile(original, path);
    const { schema } = evolveSchema(undefined, COLUMNS.slice(0, 2), { mode: 'fail' });
    await expect(rewriteWithFieldIds(path, schema)).rejects.toThrow(FieldIdMappingError);
    await expect(readParquetFooter(join(import.meta.dirname, 'schema-mapping.test.ts'))).rejects.toThrow(ParquetFooterError);
  });
});

describe('bounds conversion', () => {
  const element: ThriftStruct = new Map();
  it('turns little-endian INT32/INT64 decimals into minimal big-endian unscaled values', () => {
    const le = new Uint8Array(8);
    new DataView(le.buffer).setBigInt64(0, -129n, true);
    expect(toIcebergBound('decimal(18, 2)', PhysicalType.INT64, element, le, 'lower')).toEqual(Uint8Array.of(0xff, 0x7f));
    const fixed = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0x7f);
    expect(toIcebergBound('decimal(18, 2)', PhysicalType.FIXED_LEN_BYTE_ARRAY, element, fixed, 'upper')).toEqual(Uint8Array.of(0x7f));
  });

  it('drops an upper bound Parquet marks as inexact and a NaN float bound', () => {
    const stats: ThriftStruct = new Map<number, Parameters<ThriftStruct['set']>[1]>([
      [3, { type: TType.I64, value: 0n }],
      [5, { type: TType.Binary, value: new TextEncoder().encode('zz') }],
      [6, { type: TType.Binary, value: new TextEncoder().encode('a') }],
      [7, { type: TType.False, value: false }],
    ]);
    const meta: ThriftStruct = new Map<number, Parameters<ThriftStruct['set']>[1]>([
      [1, { type: TType.I32, value: PhysicalType.BYTE_ARRAY }],
      [3, { type: TType.List, elementType: TType.Binary, value: [{ type: TType.Binary, value: new TextEncoder().encode('s') }] }],
      [5, { type: TType.I64, value: 10n }],
      [7, { type: TType.I64, value: 100n }],
      [9, { type: TType.I64, value: 4n }],
      [12, { type: TType.Struct, value: stats }],
    ]);
    const metadata: ThriftStruct = new Map<number, Parameters<ThriftStruct['set']>[1]>([
      [3, { type: TType.I64, value: 10n }],
      [4, { type: TType.List, elementType: TType.Struct, value: [{ type: TType.Struct, value: new Map<number, Parameters<ThriftStruct['set']>[1]>([
        [1, { type: TType.List, elementType: TType.Struct, value: [{ type: TType.Struct, value: new Map([[3, { type: TType.Struct, value: meta }]]) }] }],
        [3, { type: TType.I64, value: 10n }],
      ]) }] }],
    ]);
    const m = footerMetrics(metadata, new Map([['s', { path: 's', fieldId: 1, type: 'string', repeated: false, element }]]));
    expect(new TextDecoder().decode(m.lowerBounds.get(1))).toBe('a');
    expect(m.upperBounds.has(1)).toBe(false);
    expect(m.splitOffsets).toEqual([4n]);
    const nan = new Uint8Array(8);
    new DataView(nan.buffer).setFloat64(0, Number.NaN, true);
    expect(toIcebergBound('double', PhysicalType.DOUBLE, element, nan, 'lower')).toBeUndefined();
  });
});
