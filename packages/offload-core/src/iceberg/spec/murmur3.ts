import { decimalToBytes, uuidToBytes } from './values.js';

/** MurmurHash3 x86 32-bit with seed 0, the hash the spec's bucket transform uses. */
export function murmur3x86_32(data: Uint8Array, seed = 0): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed | 0;
  const tail = data.length & ~3;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < tail; i += 4) {
    let k = view.getUint32(i, true);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = data.length & 3;
  if (rest > 0) {
    let k = 0;
    if (rest === 3) k ^= (data[tail + 2] ?? 0) << 16;
    if (rest >= 2) k ^= (data[tail + 1] ?? 0) << 8;
    k ^= data[tail] ?? 0;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= data.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** Hash of an int or long (ints are promoted to long: 8 bytes little-endian). */
export function hashLong(value: number | bigint): number {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(BigInt(value));
  return murmur3x86_32(b);
}

/** Hash of a float or double: the double's bits, with -0.0 hashed as 0.0. */
export function hashDouble(value: number): number {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(Object.is(value, -0) ? 0 : value);
  return murmur3x86_32(b);
}

export function hashString(value: string): number {
  return murmur3x86_32(Buffer.from(value, 'utf8'));
}

export function hashBytes(value: Uint8Array): number {
  return murmur3x86_32(value);
}

/** Hash of a decimal: its unscaled value's minimal big-endian two's-complement bytes. */
export function hashDecimal(unscaled: bigint): number {
  return murmur3x86_32(decimalToBytes(unscaled));
}

export function hashUuid(uuid: string): number {
  return murmur3x86_32(uuidToBytes(uuid));
}
