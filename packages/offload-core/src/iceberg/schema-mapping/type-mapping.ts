import { quoteClickHouse } from '../../identifiers/index.js';
import { decimalParams, fixedLength } from '../spec/schema.js';
import type { IcebergType, PrimitiveType } from '../spec/types.js';
import { ClickHouseTypeError, formatClickHouseType, unwrapClickHouseType } from './clickhouse-type.js';
import type { ClickHouseType } from './clickhouse-type.js';

/**
 * How ClickHouse columns become Iceberg columns. Every row is also a promise
 * about the Parquet ClickHouse writes: the SELECT casts each column to the
 * "ClickHouse as" type, whose Parquet encoding is what Iceberg readers expect.
 *
 * | ClickHouse | Iceberg | ClickHouse as | Parquet written |
 * |---|---|---|---|
 * | Int8, Int16, Int32, UInt8, UInt16 | int | Int32 | INT32 |
 * | Int64, UInt32 | long | Int64 | INT64 |
 * | UInt64 | decimal(20, 0) | Decimal(20, 0) | FIXED_LEN_BYTE_ARRAY(16) DECIMAL(20, 0) |
 * | Int128, UInt128, Int256, UInt256 | decimal(38, 0) | toDecimal128(x, 0) | FIXED_LEN_BYTE_ARRAY(16) DECIMAL(38, 0) |
 * | Float32 / Float64 | float / double | same | FLOAT / DOUBLE |
 * | Decimal(P, S), P ≤ 38 (Decimal32/64/128(S)) | decimal(P, S) | Decimal(P, S) | FIXED_LEN_BYTE_ARRAY(4/8/16) DECIMAL(P, S) |
 * | String, LowCardinality(String), Enum8, Enum16 | string | String | BYTE_ARRAY STRING |
 * | FixedString(N) | fixed[N] | FixedString(N) | FIXED_LEN_BYTE_ARRAY(N) |
 * | UUID | uuid | UUID | FIXED_LEN_BYTE_ARRAY(16) UUID |
 * | Date, Date32 | date | Date32 | INT32 DATE |
 * | DateTime, DateTime('tz'), DateTime64(p[, 'tz']) | timestamptz | DateTime64(6, 'UTC') | INT64 TIMESTAMP(MICROS, UTC) |
 * | Bool | boolean | Bool | BOOLEAN |
 * | Nullable(T) | optional field of T | Nullable(…) | OPTIONAL |
 * | Array(T) | list | Array(…) | LIST group |
 * | Map(K, V) | map | Map(…) | MAP group |
 * | Tuple(a T, …) / Tuple(T, …) | struct (fields `a`… or `1`, `2`…) | Tuple(…) | group |
 *
 * Notes:
 * - UInt64 becomes decimal(20, 0) because Iceberg has no unsigned long:
 *   values above 2^63 stay exact. Decimals are written at ClickHouse's storage
 *   width (4, 8 or 16 bytes), which is the minimum width for Decimal32/64/128
 *   at full precision and wider for e.g. Decimal(20, 0); Iceberg's Java,
 *   PyIceberg and Rust readers read any fixed width.
 * - 128/256-bit integers are converted with `toDecimal128(x, 0)`: a value
 *   beyond 38 digits fails the query with ClickHouse's DECIMAL_OVERFLOW
 *   rather than being altered. They are refused inside arrays, maps and tuples.
 * - Decimal(P, S) with P > 38 (Decimal256) is refused.
 * - DateTime64 with precision above 6 is truncated to microseconds (Iceberg
 *   v2 timestamps are microseconds); any column time zone is only display
 *   metadata in ClickHouse, so the instant is preserved and stored as UTC.
 * - FixedString(N) maps to fixed[N], not string: it is zero-padded binary,
 *   and fixed keeps the bytes exact.
 * - Enums are written by label; the numeric codes are not kept.
 */
export interface TypeMappingRow {
  readonly clickhouse: string;
  readonly iceberg: string;
  readonly clickhouseAs: string;
  readonly parquet: string;
}

/** The table above as data, for docs and diagnostics. */
export const TYPE_MAPPING: readonly TypeMappingRow[] = [
  { clickhouse: 'Int8, Int16, Int32, UInt8, UInt16', iceberg: 'int', clickhouseAs: 'Int32', parquet: 'INT32' },
  { clickhouse: 'Int64, UInt32', iceberg: 'long', clickhouseAs: 'Int64', parquet: 'INT64' },
  { clickhouse: 'UInt64', iceberg: 'decimal(20, 0)', clickhouseAs: 'Decimal(20, 0)', parquet: 'FIXED_LEN_BYTE_ARRAY(16) DECIMAL(20, 0)' },
  { clickhouse: 'Int128, UInt128, Int256, UInt256', iceberg: 'decimal(38, 0)', clickhouseAs: 'toDecimal128(x, 0)', parquet: 'FIXED_LEN_BYTE_ARRAY(16) DECIMAL(38, 0)' },
  { clickhouse: 'Float32', iceberg: 'float', clickhouseAs: 'Float32', parquet: 'FLOAT' },
  { clickhouse: 'Float64', iceberg: 'double', clickhouseAs: 'Float64', parquet: 'DOUBLE' },
  { clickhouse: 'Decimal(P, S), P <= 38', iceberg: 'decimal(P, S)', clickhouseAs: 'Decimal(P, S)', parquet: 'FIXED_LEN_BYTE_ARRAY(4/8/16) DECIMAL(P, S)' },
  { clickhouse: 'String, LowCardinality(String), Enum8, Enum16', iceberg: 'string', clickhouseAs: 'String', parquet: 'BYTE_ARRAY STRING' },
  { clickhouse: 'FixedString(N)', iceberg: 'fixed[N]', clickhouseAs: 'FixedString(N)', parquet: 'FIXED_LEN_BYTE_ARRAY(N)' },
  { clickhouse: 'UUID', iceberg: 'uuid', clickhouseAs: 'UUID', parquet: 'FIXED_LEN_BYTE_ARRAY(16) UUID' },
  { clickhouse: 'Date, Date32', iceberg: 'date', clickhouseAs: 'Date32', parquet: 'INT32 DATE' },
  { clickhouse: "DateTime, DateTime('tz'), DateTime64(p[, 'tz'])", iceberg: 'timestamptz', clickhouseAs: "DateTime64(6, 'UTC')", parquet: 'INT64 TIMESTAMP(MICROS, UTC)' },
  { clickhouse: 'Bool', iceberg: 'boolean', clickhouseAs: 'Bool', parquet: 'BOOLEAN' },
  { clickhouse: 'Nullable(T)', iceberg: 'optional field', clickhouseAs: 'Nullable(T)', parquet: 'OPTIONAL' },
  { clickhouse: 'Array(T)', iceberg: 'list', clickhouseAs: 'Array(T)', parquet: 'LIST group' },
  { clickhouse: 'Map(K, V)', iceberg: 'map', clickhouseAs: 'Map(K, V)', parquet: 'MAP group' },
  { clickhouse: 'Tuple(a T, ...) / Tuple(T, ...)', iceberg: 'struct', clickhouseAs: 'Tuple(...)', parquet: 'group' },
];

/** The Iceberg primitive for an unwrapped ClickHouse primitive, or undefined for nested kinds. */
export function icebergPrimitiveOf(type: ClickHouseType, column: string): PrimitiveType | undefined {
  switch (type.kind) {
    case 'int':
      if (type.bits >= 128) return 'decimal(38, 0)';
      if (type.signed) return type.bits === 64 ? 'long' : 'int';
      return type.bits <= 16 ? 'int' : type.bits === 32 ? 'long' : 'decimal(20, 0)';
    case 'float':
      return type.bits === 32 ? 'float' : 'double';
    case 'decimal':
      if (type.precision > 38) {
        throw new ClickHouseTypeError(formatClickHouseType(type), `column ${column}: Iceberg decimals hold at most 38 digits`);
      }
      return `decimal(${type.precision}, ${type.scale})`;
    case 'string':
    case 'enum':
      return 'string';
    case 'fixedString':
      return `fixed[${type.length}]`;
    case 'uuid':
      return 'uuid';
    case 'bool':
      return 'boolean';
    case 'date':
      return 'date';
    case 'dateTime':
    case 'dateTime64':
      return 'timestamptz';
    default:
      return undefined;
  }
}

function primitiveTarget(type: PrimitiveType, column: string): ClickHouseType {
  switch (type) {
    case 'boolean':
      return { kind: 'bool' };
    case 'int':
      return { kind: 'int', signed: true, bits: 32 };
    case 'long':
      return { kind: 'int', signed: true, bits: 64 };
    case 'float':
      return { kind: 'float', bits: 32 };
    case 'double':
      return { kind: 'float', bits: 64 };
    case 'date':
      return { kind: 'date', wide: true };
    case 'timestamptz':
      return { kind: 'dateTime64', precision: 6, timezone: 'UTC' };
    case 'string':
      return { kind: 'string' };
    case 'uuid':
      return { kind: 'uuid' };
    default: {
      const decimal = decimalParams(type);
      if (decimal) return { kind: 'decimal', ...decimal };
      const length = fixedLength(type);
      if (length !== undefined) return { kind: 'fixedString', length };
      throw new ClickHouseTypeError(type, `column ${column}: Iceberg type ${type} has no ClickHouse counterpart here`);
    }
  }
}

/**
 * The ClickHouse type a column is cast to so that ClickHouse's Parquet output
 * has the physical layout of its Iceberg type. Nullability follows the
 * ClickHouse column: a non-null column stays REQUIRED in Parquet even when
 * the Iceberg field is optional, which readers accept.
 */
export function targetClickHouseType(iceberg: IcebergType, source: ClickHouseType, column: string): ClickHouseType {
  const { type, nullable } = unwrapClickHouseType(source);
  const wrap = (t: ClickHouseType): ClickHouseType => (nullable ? { kind: 'nullable', inner: t } : t);
  const shape = (expected: string): never => {
    throw new ClickHouseTypeError(formatClickHouseType(source), `column ${column}: is not a ${expected} as its Iceberg type says`);
  };
  if (typeof iceberg === 'string') {
    if (icebergPrimitiveOf(type, column) === undefined) shape(iceberg);
    return wrap(primitiveTarget(iceberg, column));
  }
  switch (iceberg.type) {
    case 'list':
      if (type.kind !== 'array') return shape('list');
      return { kind: 'array', element: targetClickHouseType(iceberg.element, type.element, column) };
    case 'map':
      if (type.kind !== 'map') return shape('map');
      return {
        kind: 'map',
        key: targetClickHouseType(iceberg.key, type.key, column),
        value: targetClickHouseType(iceberg.value, type.value, column),
      };
    case 'struct': {
      if (type.kind !== 'tuple') return shape('struct');
      const elements = type.elements.map((e) => {
        const field = iceberg.fields.find((f) => f.name === e.name);
        if (!field) throw new ClickHouseTypeError(formatClickHouseType(source), `column ${column}: tuple element ${e.name} is not in the Iceberg struct`);
        return { name: e.name, type: targetClickHouseType(field.type, e.type, column) };
      });
      return { kind: 'tuple', elements, named: true };
    }
  }
}

function hasWideInt(type: ClickHouseType): boolean {
  switch (type.kind) {
    case 'int':
      return type.bits >= 128;
    case 'nullable':
    case 'lowCardinality':
      return hasWideInt(type.inner);
    case 'array':
      return hasWideInt(type.element);
    case 'map':
      return hasWideInt(type.key) || hasWideInt(type.value);
    case 'tuple':
      return type.elements.some((e) => hasWideInt(e.type));
    default:
      return false;
  }
}

/**
 * The SELECT expression (without alias) that reads a column in its Iceberg
 * physical form. Plain CAST covers everything except 128/256-bit integers,
 * which ClickHouse only converts to decimals through `toDecimal128`.
 */
export function selectExpression(column: string, iceberg: IcebergType, source: ClickHouseType): string {
  const target = formatClickHouseType(targetClickHouseType(iceberg, source, column));
  const quoted = quoteClickHouse(column);
  const { type } = unwrapClickHouseType(source);
  if (type.kind === 'int' && type.bits >= 128) return `CAST(toDecimal128(${quoted}, 0) AS ${target})`;
  if (hasWideInt(source)) {
    throw new ClickHouseTypeError(formatClickHouseType(source), `column ${column}: 128/256-bit integers inside arrays, maps or tuples are not supported`);
  }
  return `CAST(${quoted} AS ${target})`;
}
