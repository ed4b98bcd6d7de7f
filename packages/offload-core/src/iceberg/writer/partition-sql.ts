import { OffloadError } from '../../errors.js';
import type { PartitionValue } from '../spec/data-file.js';
import { bindPartitionSpec } from '../spec/partition.js';
import type { BoundPartitionField, PartitionSpec } from '../spec/partition.js';
import type { Transform } from '../spec/transform.js';
import type { IcebergSchema, PrimitiveType } from '../spec/types.js';

/** A partition spec this writer cannot evaluate inside ClickHouse. */
export class PartitionTransformError extends OffloadError {
  constructor(message: string, options: { table?: string } = {}) {
    super('schema', message, options);
  }
}

/** One partition field, evaluated by ClickHouse as a Nullable(String) expression. */
export interface PartitionExpression {
  readonly bound: BoundPartitionField;
  /** SQL over the column's Iceberg-typed expression, yielding the value as text (NULL for null). */
  readonly sql: string;
}

const floorDiv = (e: string, n: bigint): string => `intDiv(${e} - if(${e} < 0, ${n - 1n}, 0), ${n})`;

/**
 * Translates each partition transform into ClickHouse SQL that computes the
 * spec's value exactly, so rows are split by partition without leaving
 * ClickHouse. `column` gives the Iceberg-typed SQL of a source field (the
 * column cast as the writer casts it). Bucket hashes use `murmurHash3_32`,
 * which is the spec's murmur3_x86_32 with seed 0 over the value's 8-byte
 * little-endian long (ints, dates, timestamps) or UTF-8 bytes (strings).
 */
export function partitionExpressions(
  spec: PartitionSpec,
  schema: IcebergSchema,
  column: (sourceId: number) => string,
  table?: string,
): PartitionExpression[] {
  return bindPartitionSpec(spec, schema).map((bound) => ({ bound, sql: transformSql(bound, column(bound.field['source-id']), table) }));
}

function transformSql(bound: BoundPartitionField, e: string, table?: string): string {
  const source = bound.sourceType;
  const t = bound.transform;
  const refuse = (): never => {
    throw new PartitionTransformError(`partition field ${bound.field.name}: ${t.kind} of ${source} is not supported by the ClickHouse writer`, table === undefined ? {} : { table });
  };
  const temporal = source === 'timestamptz' || source === 'timestamp';
  const tz = temporal ? ", 'UTC'" : '';
  const days = temporal ? `toInt32(toDate32(${e}, 'UTC'))` : source === 'date' ? `toInt32(${e})` : undefined;
  const micros = temporal ? `toUnixTimestamp64Micro(${e})` : undefined;
  const asLong = days !== undefined && !temporal ? `toInt64(${days})` : micros ?? (source === 'int' || source === 'long' ? `toInt64(${e})` : undefined);
  switch (t.kind) {
    case 'void':
      return 'CAST(NULL AS Nullable(String))';
    case 'identity':
      if (source === 'string') return e;
      if (source === 'boolean') return `toString(toUInt8(${e}))`;
      return asLong !== undefined ? `toString(${asLong})` : refuse();
    case 'year':
      return days !== undefined ? `toString(toYear(${e}${tz}) - 1970)` : refuse();
    case 'month':
      return days !== undefined ? `toString((toYear(${e}${tz}) - 1970) * 12 + toMonth(${e}${tz}) - 1)` : refuse();
    case 'day':
      return days !== undefined ? `toString(${days})` : refuse();
    case 'hour':
      return micros !== undefined ? `toString(${floorDiv(micros, 3_600_000_000n)})` : refuse();
    case 'bucket': {
      const hashed = source === 'string' ? e : asLong;
      return hashed !== undefined ? `toString(murmurHash3_32(${hashed}) % 2147483648 % ${t.n})` : refuse();
    }
    case 'truncate':
      if (source === 'string') return `leftUTF8(${e}, ${t.width})`;
      if (source === 'int' || source === 'long') return `toString(${e} - (((${e} % ${t.width}) + ${t.width}) % ${t.width}))`;
      return refuse();
  }
}

const MICROS_PER_HOUR = 3_600_000_000n;
const MICROS_PER_DAY = 24n * MICROS_PER_HOUR;
const utcMicros = (year: number, month: number) => BigInt(Date.UTC(year, month, 1)) * 1000n;

/**
 * The timestamps (µs, `[start, end)`) of a year, month, day or hour
 * partition, from its value as {@link transformSql} printed it; undefined
 * for other transforms. A row is in the partition exactly when its
 * timestamp is in the range, so a range can select the partition's rows
 * instead of the transform's expression: ClickHouse then skips the source's
 * parts and granules outside it rather than computing the expression for
 * every row of the window.
 */
export function temporalPartitionRange(kind: Transform['kind'], text: string): { start: bigint; end: bigint } | undefined {
  const n = Number(text);
  switch (kind) {
    case 'year':
      return { start: utcMicros(1970 + n, 0), end: utcMicros(1971 + n, 0) };
    case 'month':
      return { start: utcMicros(1970, n), end: utcMicros(1970, n + 1) };
    case 'day':
      return { start: BigInt(n) * MICROS_PER_DAY, end: BigInt(n + 1) * MICROS_PER_DAY };
    case 'hour':
      return { start: BigInt(n) * MICROS_PER_HOUR, end: BigInt(n + 1) * MICROS_PER_HOUR };
    default:
      return undefined;
  }
}

/** Reads a partition value printed by {@link transformSql} into the manifest representation. */
export function parsePartitionValue(type: PrimitiveType, text: string | null): PartitionValue {
  if (text === null) return null;
  switch (type) {
    case 'int':
    case 'date':
      return Number(text);
    case 'long':
    case 'timestamp':
    case 'timestamptz':
      return BigInt(text);
    case 'boolean':
      return text === '1';
    default:
      return text;
  }
}
