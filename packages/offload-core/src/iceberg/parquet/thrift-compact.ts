/**
 * A generic Thrift compact-protocol codec. Parquet footers are decoded into a
 * field-id-keyed tree and re-encoded from it, so every field — including ones
 * this code has never heard of (newer statistics, geospatial, encryption) —
 * survives a footer rewrite unchanged.
 */

/** Compact-protocol type codes (the boolean codes double as field values). */
export enum TType {
  Stop = 0,
  True = 1,
  False = 2,
  Byte = 3,
  I16 = 4,
  I32 = 5,
  I64 = 6,
  Double = 7,
  Binary = 8,
  List = 9,
  Set = 10,
  Map = 11,
  Struct = 12,
}

export type ThriftValue =
  | { readonly type: TType.True | TType.False; readonly value: boolean }
  | { readonly type: TType.Byte | TType.I16 | TType.I32; readonly value: number }
  | { readonly type: TType.I64; readonly value: bigint }
  | { readonly type: TType.Double; readonly value: number }
  | { readonly type: TType.Binary; readonly value: Uint8Array }
  | { readonly type: TType.List | TType.Set; readonly elementType: TType; readonly value: ThriftValue[] }
  | { readonly type: TType.Map; readonly keyType: TType; readonly valueType: TType; readonly value: [ThriftValue, ThriftValue][] }
  | { readonly type: TType.Struct; readonly value: ThriftStruct };

/** Fields by id, in the order they were read (or set). */
export type ThriftStruct = Map<number, ThriftValue>;

/** Malformed compact-protocol input. */
export class ThriftDecodeError extends Error {}

class Reader {
  offset = 0;
  constructor(private readonly bytes: Uint8Array) {}

  byte(): number {
    if (this.offset >= this.bytes.length) throw new ThriftDecodeError(`unexpected end of input at byte ${this.offset}`);
    return this.bytes[this.offset++]!;
  }

  /**
   * A varint as a number while it fits 28 bits (four bytes: every i32 in a
   * footer but the largest), else as a bigint. A footer holds thousands of
   * them; a bigint each made decoding the largest share of a rewrite's time
   * and garbage.
   */
  varint(): number | bigint {
    let small = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      const b = this.byte();
      small |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return small;
    }
    let result = BigInt(small);
    for (let shift = 28n; shift < 70n; shift += 7n) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new ThriftDecodeError(`varint too long at byte ${this.offset}`);
  }

  length(): number {
    return Number(this.varint());
  }

  zigzag32(): number {
    const n = this.varint();
    if (typeof n === 'number') return (n >>> 1) ^ -(n & 1);
    return Number((n >> 1n) ^ -(n & 1n));
  }

  zigzag64(): bigint {
    const n = this.varint();
    if (typeof n === 'number') return BigInt((n >>> 1) ^ -(n & 1));
    return (n >> 1n) ^ -(n & 1n);
  }

  /** A view of the next `length` bytes, not a copy: the decoded tree shares the input's buffer. */
  take(length: number): Uint8Array {
    if (this.offset + length > this.bytes.length) throw new ThriftDecodeError(`binary of ${length} bytes overruns input at byte ${this.offset}`);
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  value(type: TType, inCollection: boolean): ThriftValue {
    switch (type) {
      case TType.True:
      case TType.False: {
        // In a struct the value lives in the field header; in a collection it is one byte.
        const value = inCollection ? this.byte() === TType.True : type === TType.True;
        return { type: value ? TType.True : TType.False, value };
      }
      case TType.Byte: {
        const b = this.byte();
        return { type, value: b > 127 ? b - 256 : b };
      }
      case TType.I16:
      case TType.I32:
        return { type, value: this.zigzag32() };
      case TType.I64:
        return { type, value: this.zigzag64() };
      case TType.Double: {
        const bytes = this.take(8);
        return { type, value: new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0, true) };
      }
      case TType.Binary:
        return { type, value: this.take(this.length()) };
      case TType.List:
      case TType.Set: {
        const header = this.byte();
        const elementType = (header & 0x0f) as TType;
        const size = header >> 4 === 0x0f ? this.length() : header >> 4;
        const value: ThriftValue[] = [];
        for (let i = 0; i < size; i++) value.push(this.value(elementType, true));
        return { type, elementType, value };
      }
      case TType.Map: {
        const size = this.length();
        const kinds = size > 0 ? this.byte() : 0;
        const keyType = (kinds >> 4) as TType;
        const valueType = (kinds & 0x0f) as TType;
        const value: [ThriftValue, ThriftValue][] = [];
        for (let i = 0; i < size; i++) value.push([this.value(keyType, true), this.value(valueType, true)]);
        return { type, keyType, valueType, value };
      }
      case TType.Struct:
        return { type, value: this.struct() };
      default:
        throw new ThriftDecodeError(`unknown compact type ${String(type)} at byte ${this.offset - 1}`);
    }
  }

  struct(): ThriftStruct {
    const fields: ThriftStruct = new Map();
    let lastId = 0;
    for (;;) {
      const header = this.byte();
      if (header === TType.Stop) return fields;
      const type = (header & 0x0f) as TType;
      const delta = header >> 4;
      const id = delta === 0 ? this.zigzag32() : lastId + delta;
      fields.set(id, this.value(type, false));
      lastId = id;
    }
  }
}

/** Decodes one struct starting at `offset`; returns it and the offset after it. */
export function decodeStruct(bytes: Uint8Array, offset = 0): { struct: ThriftStruct; end: number } {
  const reader = new Reader(bytes);
  reader.offset = offset;
  const struct = reader.struct();
  return { struct, end: reader.offset };
}

class Writer {
  private buffer = new Uint8Array(4096);
  private length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + n));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buffer[this.length++] = b & 0xff;
  }

  /** Unsigned; numbers below 2^31 take the fast path (see `Reader.varint`). */
  varint(n: number | bigint): void {
    if (typeof n === 'number' && n >= 0 && n < 0x80000000) {
      let v = n;
      while (v >= 0x80) {
        this.byte((v & 0x7f) | 0x80);
        v >>>= 7;
      }
      this.byte(v);
      return;
    }
    let v = BigInt(n);
    while (v >= 0x80n) {
      this.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.byte(Number(v));
  }

  zigzag32(n: number): void {
    // (n << 1) ^ (n >> 31) as an unsigned 32-bit value.
    this.varint(((n << 1) ^ (n >> 31)) >>> 0);
  }

  zigzag64(n: bigint): void {
    this.varint(BigInt.asUintN(64, (n << 1n) ^ (n >> 63n)));
  }

  bytes(data: Uint8Array): void {
    this.reserve(data.length);
    this.buffer.set(data, this.length);
    this.length += data.length;
  }

  value(v: ThriftValue, inCollection: boolean): void {
    switch (v.type) {
      case TType.True:
      case TType.False:
        if (inCollection) this.byte(v.value ? TType.True : TType.False);
        return;
      case TType.Byte:
        this.byte(v.value);
        return;
      case TType.I16:
      case TType.I32:
        this.zigzag32(v.value);
        return;
      case TType.I64:
        this.zigzag64(v.value);
        return;
      case TType.Double: {
        const buf = new DataView(new ArrayBuffer(8));
        buf.setFloat64(0, v.value, true);
        this.bytes(new Uint8Array(buf.buffer));
        return;
      }
      case TType.Binary:
        this.varint(v.value.length);
        this.bytes(v.value);
        return;
      case TType.List:
      case TType.Set:
        if (v.value.length < 15) this.byte((v.value.length << 4) | v.elementType);
        else {
          this.byte(0xf0 | v.elementType);
          this.varint(v.value.length);
        }
        for (const e of v.value) this.value(e, true);
        return;
      case TType.Map:
        this.varint(v.value.length);
        if (v.value.length > 0) this.byte((v.keyType << 4) | v.valueType);
        for (const [k, val] of v.value) {
          this.value(k, true);
          this.value(val, true);
        }
        return;
      case TType.Struct:
        this.struct(v.value);
        return;
    }
  }

  struct(fields: ThriftStruct): void {
    let lastId = 0;
    for (const [id, v] of fields) {
      // Booleans carry their value in the header's type nibble.
      const type = v.type === TType.True || v.type === TType.False ? (v.value ? TType.True : TType.False) : v.type;
      const delta = id - lastId;
      if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
      else {
        this.byte(type);
        this.zigzag32(id);
      }
      this.value(v, false);
      lastId = id;
    }
    this.byte(TType.Stop);
  }

  result(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

export function encodeStruct(struct: ThriftStruct): Uint8Array {
  const writer = new Writer();
  writer.struct(struct);
  return writer.result();
}

// Typed accessors: a footer is read through these, so a wrong type is reported, not misread.

function field(struct: ThriftStruct, id: number, type: TType, what: string): ThriftValue | undefined {
  const v = struct.get(id);
  if (v === undefined) return undefined;
  const same = v.type === type || ((type === TType.True || type === TType.False) && (v.type === TType.True || v.type === TType.False));
  if (!same) throw new ThriftDecodeError(`${what}: field ${id} has compact type ${v.type}, expected ${type}`);
  return v;
}

export function getI32(struct: ThriftStruct, id: number, what = 'struct'): number | undefined {
  const v = field(struct, id, TType.I32, what);
  return v === undefined ? undefined : (v.value as number);
}

export function getI64(struct: ThriftStruct, id: number, what = 'struct'): bigint | undefined {
  const v = field(struct, id, TType.I64, what);
  return v === undefined ? undefined : (v.value as bigint);
}

export function getBool(struct: ThriftStruct, id: number, what = 'struct'): boolean | undefined {
  const v = field(struct, id, TType.True, what);
  return v === undefined ? undefined : (v.value as boolean);
}

export function getBinary(struct: ThriftStruct, id: number, what = 'struct'): Uint8Array | undefined {
  const v = field(struct, id, TType.Binary, what);
  return v === undefined ? undefined : (v.value as Uint8Array);
}

export function getString(struct: ThriftStruct, id: number, what = 'struct'): string | undefined {
  const b = getBinary(struct, id, what);
  return b === undefined ? undefined : new TextDecoder().decode(b);
}

export function getStruct(struct: ThriftStruct, id: number, what = 'struct'): ThriftStruct | undefined {
  const v = field(struct, id, TType.Struct, what);
  return v === undefined ? undefined : (v.value as ThriftStruct);
}

export function getList(struct: ThriftStruct, id: number, what = 'struct'): ThriftValue[] | undefined {
  const v = field(struct, id, TType.List, what);
  return v === undefined ? undefined : (v.value as ThriftValue[]);
}

export function getStructList(struct: ThriftStruct, id: number, what = 'struct'): ThriftStruct[] {
  return (getList(struct, id, what) ?? []).map((e) => {
    if (e.type !== TType.Struct) throw new ThriftDecodeError(`${what}: field ${id} holds ${e.type}, expected structs`);
    return e.value;
  });
}

/** Sets an i32 field, keeping fields in ascending id order as Thrift writers do. */
export function setI32(struct: ThriftStruct, id: number, value: number): ThriftStruct {
  const entries = [...struct].filter(([k]) => k !== id);
  entries.push([id, { type: TType.I32, value }]);
  entries.sort(([a], [b]) => a - b);
  return new Map(entries);
}
