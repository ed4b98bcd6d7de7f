import type { PartitionValue } from './data-file.js';
import { IcebergSpecError } from './errors.js';
import { decimalParams, fixedLength } from './schema.js';
import type { PrimitiveType } from './types.js';

/**
 * A primitive value in memory: boolean → boolean; int, date (days) → number;
 * long, time, timestamp, timestamptz (microseconds) → bigint; float, double →
 * number; string → string; uuid → canonical string; decimal → unscaled bigint;
 * fixed, binary → bytes.
 */
export type PrimitiveValue = Exclude<PartitionValue, null>;

/**
 * The spec's single-value binary serialisation (Appendix D), used for
 * column bounds and partition field summaries.
 */
export function valueToBytes(type: PrimitiveType, value: PrimitiveValue): Uint8Array {
  switch (type) {
    case 'boolean':
      return Uint8Array.of(value === true ? 1 : 0);
    case 'int':
    case 'date': {
      const b = Buffer.alloc(4);
      b.writeInt32LE(Number(value));
      return b;
    }
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz': {
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(BigInt(value as number | bigint));
      return b;
    }
    case 'float': {
      const b = Buffer.alloc(4);
      b.writeFloatLE(Number(value));
      return b;
    }
    case 'double': {
      const b = Buffer.alloc(8);
      b.writeDoubleLE(Number(value));
      return b;
    }
    case 'string':
      return Buffer.from(String(value), 'utf8');
    case 'uuid':
      return uuidToBytes(String(value));
    case 'binary':
      return asBytes(value, type);
    default:
      if (decimalParams(type)) return decimalToBytes(BigInt(value as number | bigint));
      if (fixedLength(type) !== undefined) return asBytes(value, type);
      throw new IcebergSpecError(`no single-value serialisation for type ${type}`);
  }
}

/** Reads a value written by {@link valueToBytes}. */
export function valueFromBytes(type: PrimitiveType, bytes: Uint8Array): PrimitiveValue {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (type) {
    case 'boolean':
      return b[0] !== 0;
    case 'int':
    case 'date':
      return b.readInt32LE(0);
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return b.readBigInt64LE(0);
    case 'float':
      return b.readFloatLE(0);
    case 'double':
      return b.readDoubleLE(0);
    case 'string':
      return b.toString('utf8');
    case 'uuid':
      return uuidFromBytes(b);
    case 'binary':
      return Uint8Array.from(b);
    default:
      if (decimalParams(type)) return decimalFromBytes(b);
      if (fixedLength(type) !== undefined) return Uint8Array.from(b);
      throw new IcebergSpecError(`no single-value serialisation for type ${type}`);
  }
}

/** Unscaled value as big-endian two's complement in the fewest bytes that hold it. */
export function decimalToBytes(unscaled: bigint): Uint8Array {
  const bytes: number[] = [];
  let v = unscaled;
  for (;;) {
    const byte = Number(BigInt.asUintN(8, v));
    bytes.unshift(byte);
    v >>= 8n;
    const signBit = (byte & 0x80) !== 0;
    if ((v === 0n && !signBit) || (v === -1n && signBit)) return Uint8Array.from(bytes);
  }
}

export function decimalFromBytes(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const byte of bytes) v = (v << 8n) | BigInt(byte);
  return bytes.length === 0 ? 0n : BigInt.asIntN(bytes.length * 8, v);
}

/** UUID as 16 bytes, most significant first. */
export function uuidToBytes(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new IcebergSpecError(`invalid uuid ${JSON.stringify(uuid)}`);
  return Buffer.from(hex, 'hex');
}

export function uuidFromBytes(bytes: Uint8Array): string {
  const h = Buffer.from(bytes).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function asBytes(value: PrimitiveValue, type: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw new IcebergSpecError(`expected bytes for ${type}, got ${typeof value}`);
}
