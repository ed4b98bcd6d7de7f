import type { PartitionValue } from './data-file.js';
import { IcebergSpecError } from './errors.js';
import { hashBytes, hashDecimal, hashLong, hashString, hashUuid } from './murmur3.js';
import { decimalParams, fixedLength } from './schema.js';
import type { PrimitiveType } from './types.js';

/** A partition transform, parsed from its spec string (`day`, `bucket[16]`, `truncate[4]`). */
export type Transform =
  | { readonly kind: 'identity' | 'year' | 'month' | 'day' | 'hour' | 'void' }
  | { readonly kind: 'bucket'; readonly n: number }
  | { readonly kind: 'truncate'; readonly width: number };

export function parseTransform(text: string): Transform {
  switch (text) {
    case 'identity':
    case 'year':
    case 'month':
    case 'day':
    case 'hour':
    case 'void':
      return { kind: text };
  }
  const m = /^(bucket|truncate)\[(\d+)\]$/.exec(text);
  if (m && Number(m[2]) > 0) {
    return m[1] === 'bucket' ? { kind: 'bucket', n: Number(m[2]) } : { kind: 'truncate', width: Number(m[2]) };
  }
  throw new IcebergSpecError(`unsupported partition transform ${JSON.stringify(text)}`);
}

export function transformToString(t: Transform): string {
  if (t.kind === 'bucket') return `bucket[${t.n}]`;
  if (t.kind === 'truncate') return `truncate[${t.width}]`;
  return t.kind;
}

const TEMPORAL: readonly string[] = ['date', 'timestamp', 'timestamptz'];

/** The type a transform produces from a source type; throws when the pair is not allowed. */
export function transformResultType(t: Transform, source: PrimitiveType): PrimitiveType {
  const reject = (): never => {
    throw new IcebergSpecError(`transform ${transformToString(t)} cannot apply to ${source}`);
  };
  switch (t.kind) {
    case 'identity':
    case 'void':
      return source;
    case 'year':
    case 'month':
      return TEMPORAL.includes(source) ? 'int' : reject();
    case 'day':
      return TEMPORAL.includes(source) ? 'date' : reject();
    case 'hour':
      return source === 'timestamp' || source === 'timestamptz' ? 'int' : reject();
    case 'bucket':
      return source === 'float' || source === 'double' || source === 'boolean' ? reject() : 'int';
    case 'truncate':
      return ['int', 'long', 'string', 'binary'].includes(source) || decimalParams(source) ? source : reject();
  }
}

const MICROS_PER_DAY = 86_400_000_000n;
const MICROS_PER_HOUR = 3_600_000_000n;

/** Floor division for bigint (the spec's temporal transforms floor before the epoch). */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function daysOf(source: PrimitiveType, value: PartitionValue): number {
  return source === 'date' ? Number(value) : Number(floorDiv(BigInt(value as bigint), MICROS_PER_DAY));
}

function yearMonthOf(days: number): { year: number; month: number } {
  const d = new Date(days * 86_400_000);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() };
}

/** The 32-bit hash the bucket transform uses for a value of this type. */
export function bucketHash(source: PrimitiveType, value: Exclude<PartitionValue, null>): number {
  switch (source) {
    case 'int':
    case 'long':
    case 'date':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return hashLong(value as number | bigint);
    case 'string':
      return hashString(String(value));
    case 'uuid':
      return hashUuid(String(value));
    case 'binary':
      return hashBytes(value as Uint8Array);
    default:
      if (decimalParams(source)) return hashDecimal(BigInt(value as bigint));
      if (fixedLength(source) !== undefined) return hashBytes(value as Uint8Array);
      throw new IcebergSpecError(`cannot bucket a ${source}`);
  }
}

/** Applies a transform to a source value (see {@link PrimitiveValue} for representations). Null stays null. */
export function applyTransform(t: Transform, source: PrimitiveType, value: PartitionValue): PartitionValue {
  if (value === null || t.kind === 'void') return null;
  switch (t.kind) {
    case 'identity':
      return value;
    case 'day':
      return daysOf(source, value);
    case 'month': {
      const { year, month } = yearMonthOf(daysOf(source, value));
      return (year - 1970) * 12 + month;
    }
    case 'year':
      return yearMonthOf(daysOf(source, value)).year - 1970;
    case 'hour':
      return Number(floorDiv(BigInt(value as bigint), MICROS_PER_HOUR));
    case 'bucket':
      return ((bucketHash(source, value) & 0x7fffffff) >>> 0) % t.n;
    case 'truncate':
      return truncate(t.width, source, value);
  }
}

function truncate(width: number, source: PrimitiveType, value: Exclude<PartitionValue, null>): PartitionValue {
  if (source === 'int') {
    const v = Number(value);
    return v - (((v % width) + width) % width);
  }
  if (source === 'long' || decimalParams(source)) {
    const v = BigInt(value as bigint);
    const w = BigInt(width);
    return v - (((v % w) + w) % w);
  }
  if (source === 'string') return Array.from(String(value)).slice(0, width).join('');
  return (value as Uint8Array).slice(0, width);
}

/**
 * A transformed value as it appears in a partition path (`ts_day=2026-11-21`),
 * like Iceberg's `Transform.toHumanString`.
 */
export function humanString(t: Transform, resultType: PrimitiveType, value: PartitionValue): string {
  if (value === null) return 'null';
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const dateOf = (days: number): string => new Date(days * 86_400_000).toISOString().slice(0, 10);
  switch (t.kind) {
    case 'year':
      return String(1970 + Number(value));
    case 'month': {
      const m = Number(value);
      const year = 1970 + Math.floor(m / 12);
      return `${year}-${pad(((m % 12) + 12) % 12 + 1)}`;
    }
    case 'day':
      return dateOf(Number(value));
    case 'hour': {
      const h = Number(value);
      return `${dateOf(Math.floor(h / 24))}-${pad(((h % 24) + 24) % 24)}`;
    }
    default:
      return valueHumanString(resultType, value);
  }
}

function valueHumanString(type: PrimitiveType, value: Exclude<PartitionValue, null>): string {
  if (type === 'date') return new Date(Number(value) * 86_400_000).toISOString().slice(0, 10);
  if (type === 'timestamp' || type === 'timestamptz') {
    const micros = BigInt(value as bigint);
    const iso = new Date(Number(floorDiv(micros, 1000n))).toISOString().slice(0, 23);
    const sub = String(((micros % 1000n) + 1000n) % 1000n).padStart(3, '0');
    return `${iso}${sub}${type === 'timestamptz' ? 'Z' : ''}`;
  }
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  const dec = decimalParams(type);
  if (dec && typeof value === 'bigint') {
    const neg = value < 0n;
    const digits = (neg ? -value : value).toString().padStart(dec.scale + 1, '0');
    const int = digits.slice(0, digits.length - dec.scale);
    const frac = dec.scale > 0 ? `.${digits.slice(digits.length - dec.scale)}` : '';
    return `${neg ? '-' : ''}${int}${frac}`;
  }
  return String(value);
}
