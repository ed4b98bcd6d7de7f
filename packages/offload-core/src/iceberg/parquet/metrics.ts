import type { PrimitiveType } from '../spec/types.js';
import { decimalParams } from '../spec/schema.js';
import { decimalToBytes } from '../spec/values.js';
import { getBinary, getBool, getI32, getI64, getList, getStruct, getStructList, TType } from './thrift-compact.js';
import type { ThriftStruct } from './thrift-compact.js';
import { FileMetaDataField, LogicalTypeField, PhysicalType, SchemaElementField } from './footer.js';
import type { LeafColumn } from './field-ids.js';

/** Column-level metrics of one data file, keyed by Iceberg field id (the `DataFile` maps). */
export interface ParquetMetrics {
  readonly recordCount: bigint;
  readonly columnSizes: Map<number, bigint>;
  readonly valueCounts: Map<number, bigint>;
  readonly nullValueCounts: Map<number, bigint>;
  readonly lowerBounds: Map<number, Uint8Array>;
  readonly upperBounds: Map<number, Uint8Array>;
  /** Start offset of each row group (its first column chunk's first page). */
  readonly splitOffsets: bigint[];
}

const RowGroupField = { columns: 1, numRows: 3, fileOffset: 5 } as const;
const ColumnChunkField = { metaData: 3 } as const;
const ColumnMetaDataField = {
  type: 1,
  pathInSchema: 3,
  numValues: 5,
  totalCompressedSize: 7,
  dataPageOffset: 9,
  dictionaryPageOffset: 11,
  statistics: 12,
} as const;
const StatisticsField = { max: 1, min: 2, nullCount: 3, maxValue: 5, minValue: 6, isMaxValueExact: 7, isMinValueExact: 8 } as const;

/** Physical types whose deprecated min/max (signed order) coincide with the logical order. */
const SIGNED_ORDER_SAFE: readonly number[] = [PhysicalType.BOOLEAN, PhysicalType.INT32, PhysicalType.INT64, PhysicalType.FLOAT, PhysicalType.DOUBLE];

function add(map: Map<number, bigint>, id: number, n: bigint): void {
  map.set(id, (map.get(id) ?? 0n) + n);
}

function readStats(stats: ThriftStruct, physical: number): { min?: Uint8Array; max?: Uint8Array } {
  const minValue = getBinary(stats, StatisticsField.minValue, 'Statistics');
  const maxValue = getBinary(stats, StatisticsField.maxValue, 'Statistics');
  const legacy = SIGNED_ORDER_SAFE.includes(physical);
  const min = minValue ?? (legacy ? getBinary(stats, StatisticsField.min, 'Statistics') : undefined);
  let max = maxValue ?? (legacy ? getBinary(stats, StatisticsField.max, 'Statistics') : undefined);
  // A truncated max (e.g. a long string cut short) is below the true maximum: no upper bound.
  if (getBool(stats, StatisticsField.isMaxValueExact, 'Statistics') === false) max = undefined;
  return { ...(min ? { min } : {}), ...(max ? { max } : {}) };
}

/** TimeUnit union of the TIMESTAMP logical type: 1 MILLIS, 2 MICROS, 3 NANOS. */
function timestampUnit(element: ThriftStruct): 'millis' | 'micros' | 'nanos' {
  const logical = getStruct(element, SchemaElementField.logicalType, 'SchemaElement');
  const ts = logical && getStruct(logical, LogicalTypeField.TIMESTAMP, 'LogicalType');
  const unit = ts && getStruct(ts, 2, 'TimestampType');
  if (unit?.has(1)) return 'millis';
  if (unit?.has(3)) return 'nanos';
  // No logical unit: the legacy TIMESTAMP_MILLIS converted type (9) is the only other marker.
  return getI32(element, SchemaElementField.convertedType, 'SchemaElement') === 9 ? 'millis' : 'micros';
}

function littleEndianInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return BigInt.asIntN(bytes.length * 8, v);
}

function int64Bytes(v: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, v, true);
  return out;
}

/**
 * Converts a Parquet statistics value to Iceberg's single-value binary form,
 * or undefined when it cannot be represented faithfully.
 */
export function toIcebergBound(
  type: PrimitiveType,
  physical: number,
  element: ThriftStruct,
  raw: Uint8Array,
  side: 'lower' | 'upper',
): Uint8Array | undefined {
  if (decimalParams(type)) {
    // INT32/INT64 decimals are little-endian in Parquet; fixed/binary ones big-endian. Iceberg wants minimal big-endian.
    if (physical === PhysicalType.INT32 || physical === PhysicalType.INT64) return decimalToBytes(littleEndianInt(raw));
    return decimalToBytes(bigEndianInt(raw));
  }
  switch (type) {
    case 'timestamp':
    case 'timestamptz':
    case 'time': {
      if (physical !== PhysicalType.INT64 || raw.length !== 8) return undefined;
      const unit = timestampUnit(element);
      if (unit === 'micros') return raw;
      const v = littleEndianInt(raw);
      if (unit === 'millis') return int64Bytes(v * 1000n);
      // Nanoseconds: round outwards so each bound still bounds.
      const floor = v / 1000n - (v % 1000n < 0n ? 1n : 0n);
      return int64Bytes(side === 'lower' || v % 1000n === 0n ? floor : floor + 1n);
    }
    case 'float':
    case 'double': {
      const width = type === 'float' ? 4 : 8;
      if (raw.length !== width) return undefined;
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const value = width === 4 ? view.getFloat32(0, true) : view.getFloat64(0, true);
      return Number.isNaN(value) ? undefined : raw;
    }
    case 'boolean':
      return raw.length === 1 ? raw : undefined;
    case 'int':
    case 'date':
      return physical === PhysicalType.INT32 && raw.length === 4 ? raw : undefined;
    case 'long':
      return physical === PhysicalType.INT64 && raw.length === 8 ? raw : undefined;
    case 'uuid':
      return raw.length === 16 ? raw : undefined;
    case 'string':
    case 'binary':
      return raw;
    default:
      return type.startsWith('fixed[') ? raw : undefined;
  }
}

/**
 * Reads a data file's metrics from its footer alone, as Iceberg's own Parquet
 * writer does: sizes and counts summed over row groups, bounds merged across
 * row groups, and no bounds for leaves inside lists and maps (their
 * statistics describe elements, not rows).
 */
export function footerMetrics(metadata: ThriftStruct, leaves: ReadonlyMap<string, LeafColumn>): ParquetMetrics {
  const metrics: ParquetMetrics = {
    recordCount: getI64(metadata, FileMetaDataField.numRows, 'FileMetaData') ?? 0n,
    columnSizes: new Map(),
    valueCounts: new Map(),
    nullValueCounts: new Map(),
    lowerBounds: new Map(),
    upperBounds: new Map(),
    splitOffsets: [],
  };
  const bounds: BoundState = { lower: new Map(), upper: new Map(), noLower: new Set(), noUpper: new Set() };
  const noNullCount = new Set<number>();

  for (const rowGroup of getStructList(metadata, FileMetaDataField.rowGroups, 'FileMetaData')) {
    const chunks = getStructList(rowGroup, RowGroupField.columns, 'RowGroup');
    const numRows = getI64(rowGroup, RowGroupField.numRows, 'RowGroup') ?? 0n;
    const start = rowGroupStart(rowGroup, chunks);
    if (start !== undefined) metrics.splitOffsets.push(start);
    for (const chunk of chunks) {
      const meta = getStruct(chunk, ColumnChunkField.metaData, 'ColumnChunk');
      if (!meta) continue;
      const path = (getList(meta, ColumnMetaDataField.pathInSchema, 'ColumnMetaData') ?? [])
        .map((v) => (v.type === TType.Binary ? new TextDecoder().decode(v.value) : ''))
        .join('.');
      const leaf = leaves.get(path);
      if (!leaf) continue;
      const id = leaf.fieldId;
      add(metrics.columnSizes, id, getI64(meta, ColumnMetaDataField.totalCompressedSize, 'ColumnMetaData') ?? 0n);
      add(metrics.valueCounts, id, getI64(meta, ColumnMetaDataField.numValues, 'ColumnMetaData') ?? 0n);
      const stats = getStruct(meta, ColumnMetaDataField.statistics, 'ColumnMetaData');
      const nullCount = stats && getI64(stats, StatisticsField.nullCount, 'Statistics');
      if (nullCount === undefined) noNullCount.add(id);
      else add(metrics.nullValueCounts, id, nullCount);
      if (leaf.repeated || typeof leaf.type !== 'string') continue;
      mergeBounds(leaf, meta, stats, numRows, nullCount, bounds);
    }
  }
  for (const id of noNullCount) metrics.nullValueCounts.delete(id);
  for (const [id, b] of bounds.lower) if (!bounds.noLower.has(id)) metrics.lowerBounds.set(id, b);
  for (const [id, b] of bounds.upper) if (!bounds.noUpper.has(id)) metrics.upperBounds.set(id, b);
  return metrics;
}

/**
 * Where a row group's bytes start: its first chunk's dictionary (or first
 * data) page. Preferred over RowGroup.file_offset, which some writers got wrong.
 */
function rowGroupStart(rowGroup: ThriftStruct, chunks: readonly ThriftStruct[]): bigint | undefined {
  const meta = chunks[0] && getStruct(chunks[0], ColumnChunkField.metaData, 'ColumnChunk');
  const dictionary = meta && getI64(meta, ColumnMetaDataField.dictionaryPageOffset, 'ColumnMetaData');
  const data = meta && getI64(meta, ColumnMetaDataField.dataPageOffset, 'ColumnMetaData');
  if (dictionary !== undefined && dictionary > 0n && (data === undefined || dictionary < data)) return dictionary;
  return data ?? getI64(rowGroup, RowGroupField.fileOffset, 'RowGroup');
}

interface BoundState {
  readonly lower: Map<number, Uint8Array>;
  readonly upper: Map<number, Uint8Array>;
  readonly noLower: Set<number>;
  readonly noUpper: Set<number>;
}

function mergeBounds(
  leaf: LeafColumn,
  meta: ThriftStruct,
  stats: ThriftStruct | undefined,
  numRows: bigint,
  nullCount: bigint | undefined,
  state: BoundState,
): void {
  const id = leaf.fieldId;
  const type = leaf.type as PrimitiveType;
  // An all-null row group has no min/max and does not widen the bounds.
  if (nullCount !== undefined && nullCount === numRows) return;
  const physical = getI32(meta, ColumnMetaDataField.type, 'ColumnMetaData') ?? -1;
  const found = stats ? readStats(stats, physical) : {};
  const min = found.min && toIcebergBound(type, physical, leaf.element, found.min, 'lower');
  const max = found.max && toIcebergBound(type, physical, leaf.element, found.max, 'upper');
  // A row group without a bound leaves the file's bound on that side unknown.
  if (!min) state.noLower.add(id);
  if (!max) state.noUpper.add(id);
  const lo = state.lower.get(id);
  if (min && (!lo || compareBounds(type, min, lo) < 0)) state.lower.set(id, min);
  const hi = state.upper.get(id);
  if (max && (!hi || compareBounds(type, max, hi) > 0)) state.upper.set(id, max);
}

/** Orders two single-value encodings of the same Iceberg type. */
export function compareBounds(type: PrimitiveType, a: Uint8Array, b: Uint8Array): number {
  if (type === 'string' || type === 'binary' || type === 'uuid' || type.startsWith('fixed[')) return compareUnsignedBytes(a, b);
  const x = boundValue(type, a);
  const y = boundValue(type, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function boundValue(type: PrimitiveType, x: Uint8Array): number | bigint {
  const view = new DataView(x.buffer, x.byteOffset, x.byteLength);
  switch (type) {
    case 'boolean':
      return x[0] ?? 0;
    case 'int':
    case 'date':
      return view.getInt32(0, true);
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return view.getBigInt64(0, true);
    case 'float':
      return view.getFloat32(0, true);
    case 'double':
      return view.getFloat64(0, true);
    default:
      return bigEndianInt(x);
  }
}

function bigEndianInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return bytes.length === 0 ? 0n : BigInt.asIntN(bytes.length * 8, v);
}

function compareUnsignedBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
