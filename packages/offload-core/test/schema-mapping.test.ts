import { describe, expect, it } from 'vitest';
import { ClickHouseTypeError, formatClickHouseType, parseClickHouseType } from '../src/iceberg/schema-mapping/clickhouse-type.js';
import { SchemaMismatchError, evolveSchema } from '../src/iceberg/schema-mapping/evolve.js';
import { TYPE_MAPPING, selectExpression } from '../src/iceberg/schema-mapping/type-mapping.js';

const fresh = (columns: { name: string; type: string }[]) => evolveSchema(undefined, columns, { mode: 'fail' }).schema;

describe('ClickHouse type parsing', () => {
  it('parses the types system.columns prints, nested ones included', () => {
    expect(parseClickHouseType("DateTime64(3, 'Europe/Paris')")).toEqual({ kind: 'dateTime64', precision: 3, timezone: 'Europe/Paris' });
    expect(parseClickHouseType('Decimal64(8)')).toEqual({ kind: 'decimal', precision: 18, scale: 8 });
    const t = parseClickHouseType("Map(LowCardinality(String), Array(Tuple(a Nullable(Int32), `b c` Enum8('x' = 1, 'y''s' = 2))))");
    expect(formatClickHouseType(t)).toBe("Map(LowCardinality(String), Array(Tuple(`a` Nullable(Int32), `b c` Enum8('x' = 1, 'y\\'s' = 2))))");
    expect(parseClickHouseType('Tuple(Int8, String)')).toMatchObject({ kind: 'tuple', named: false, elements: [{ name: '1' }, { name: '2' }] });
  });

  it('refuses types without an Iceberg mapping, naming them', () => {
    expect(() => parseClickHouseType('IPv4')).toThrow(ClickHouseTypeError);
    expect(() => fresh([{ name: 'd', type: 'Decimal(50, 2)' }])).toThrow(/at most 38 digits/);
  });
});

describe('type mapping', () => {
  it('maps every documented ClickHouse type', () => {
    const schema = fresh([
      { name: 'i8', type: 'Int8' },
      { name: 'u16', type: 'UInt16' },
      { name: 'u32', type: 'UInt32' },
      { name: 'u64', type: 'UInt64' },
      { name: 'i128', type: 'Int128' },
      { name: 'f', type: 'Float32' },
      { name: 'd', type: 'Decimal(18, 8)' },
      { name: 'lc', type: 'LowCardinality(Nullable(String))' },
      { name: 'e', type: "Enum8('buy' = 1, 'sell' = 2)" },
      { name: 'fs', type: 'FixedString(4)' },
      { name: 'u', type: 'UUID' },
      { name: 'dt', type: "DateTime('UTC')" },
      { name: 'dt9', type: 'DateTime64(9)' },
      { name: 'day', type: 'Date32' },
      { name: 'b', type: 'Bool' },
    ]);
    expect(schema.fields.map((f) => [f.name, f.type, f.required])).toEqual([
      ['i8', 'int', true],
      ['u16', 'int', true],
      ['u32', 'long', true],
      ['u64', 'decimal(20, 0)', true],
      ['i128', 'decimal(38, 0)', true],
      ['f', 'float', true],
      ['d', 'decimal(18, 8)', true],
      ['lc', 'string', false],
      ['e', 'string', true],
      ['fs', 'fixed[4]', true],
      ['u', 'uuid', true],
      ['dt', 'timestamptz', true],
      ['dt9', 'timestamptz', true],
      ['day', 'date', true],
      ['b', 'boolean', true],
    ]);
    expect(TYPE_MAPPING.length).toBeGreaterThan(10);
  });

  it('casts each column to the ClickHouse type whose Parquet Iceberg reads', () => {
    const s = fresh([
      { name: 'ts', type: 'DateTime64(3)' },
      { name: 'side', type: "Enum8('buy' = 1)" },
      { name: 'big', type: 'UInt256' },
      { name: 'm', type: "Map(String, Array(Enum8('a' = 1)))" },
    ]);
    const expr = (i: number, type: string) => selectExpression(s.fields[i]!.name, s.fields[i]!.type, parseClickHouseType(type));
    expect(expr(0, 'DateTime64(3)')).toBe("CAST(`ts` AS DateTime64(6, 'UTC'))");
    expect(expr(1, "Enum8('buy' = 1)")).toBe('CAST(`side` AS String)');
    expect(expr(2, 'UInt256')).toBe('CAST(toDecimal128(`big`, 0) AS Decimal(38, 0))');
    expect(expr(3, "Map(String, Array(Enum8('a' = 1)))")).toBe('CAST(`m` AS Map(String, Array(String)))');
  });
});

describe('field ids and evolution', () => {
  const columns = [
    { name: 'a', type: 'Array(Tuple(x Int32, y String))' },
    { name: 'm', type: 'Map(String, Nullable(Int64))' },
    { name: 'c', type: 'String' },
  ];

  it('assigns ids like Iceberg: all fields of a struct first, then what each of them nests, in order', () => {
    const schema = fresh(columns);
    expect(schema.fields.map((f) => f.id)).toEqual([1, 2, 3]);
    expect(schema.fields[0]!.type).toEqual({
      type: 'list',
      'element-id': 4,
      'element-required': true,
      element: { type: 'struct', fields: [{ id: 5, name: 'x', required: true, type: 'int' }, { id: 6, name: 'y', required: true, type: 'string' }] },
    });
    expect(schema.fields[1]!.type).toMatchObject({ 'key-id': 7, 'value-id': 8, 'value-required': false });
  });

  it('keeps existing ids and appends new columns as optional with fresh ids', () => {
    const existing = fresh(columns);
    const evolved = evolveSchema(existing, [{ name: 'new', type: 'Tuple(p UInt8)' }, ...columns, { name: 'z', type: 'Int32' }], { mode: 'evolve' });
    expect(evolved.schema['schema-id']).toBe(1);
    expect(evolved.schema.fields.slice(0, 3)).toEqual(existing.fields);
    expect(evolved.schema.fields.slice(3).map((f) => [f.name, f.id, f.required])).toEqual([
      ['new', 9, false],
      ['z', 10, false],
    ]);
    expect(evolved.schema.fields[3]!.type).toEqual({ type: 'struct', fields: [{ id: 11, name: 'p', required: true, type: 'int' }] });
    expect(evolved.lastColumnId).toBe(11);
    expect(evolveSchema(existing, columns, { mode: 'fail' }).schema).toBe(existing);
  });

  it('names the columns when the mode is fail or a change is not a legal promotion', () => {
    const existing = fresh(columns);
    const added = () => evolveSchema(existing, [...columns, { name: 'extra', type: 'String' }, { name: 'more', type: 'Bool' }], { mode: 'fail', table: 't' });
    expect(added).toThrow(SchemaMismatchError);
    expect(added).toThrow(/extra \(added.*more \(added/);
    const narrowed = [{ name: 'c', type: 'Int32' }, columns[0]!, columns[1]!];
    expect(() => evolveSchema(existing, narrowed, { mode: 'evolve' })).toThrow(/c \(incompatible: is string in Iceberg but int/);
    const widened = evolveSchema(fresh([{ name: 'n', type: 'Int32' }]), [{ name: 'n', type: 'Int64' }], { mode: 'evolve' });
    expect(widened.schema.fields[0]!.type).toBe('long');
    expect(widened.changes).toEqual([{ path: 'n', change: 'widened', detail: 'int → long' }]);
  });
});
