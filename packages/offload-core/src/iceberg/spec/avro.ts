import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import avro from 'avsc';
import { IcebergSpecError } from './errors.js';

/** Avro longs as bigint: snapshot ids use all 63 bits, which avsc's default long type refuses. */
const bigintLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(0),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: (v: unknown) => BigInt(v as string),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

/** An avsc type for an Iceberg Avro schema; `long` values are bigint. */
export function avroType(schema: object): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, { registry: { long: bigintLong } });
}

const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]);
const headerType = avro.Type.forSchema({
  type: 'record',
  name: 'org.apache.avro.file.Header',
  fields: [
    { name: 'magic', type: { type: 'fixed', name: 'Magic', size: 4 } },
    { name: 'meta', type: { type: 'map', values: 'bytes' } },
    { name: 'sync', type: { type: 'fixed', name: 'Sync', size: 16 } },
  ],
});
const plainLong = avro.Type.forSchema('long');

/**
 * Encodes an Avro object container file (deflate codec, one block) in memory.
 * The schema JSON goes into the header verbatim so the `field-id`,
 * `element-id` and `logicalType` attributes Iceberg readers need survive.
 */
export function encodeAvroFile(
  schema: object,
  records: readonly unknown[],
  metadata: Readonly<Record<string, string>>,
): Buffer {
  const type = avroType(schema);
  const meta: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(metadata)) meta[k] = Buffer.from(v, 'utf8');
  meta['avro.schema'] = Buffer.from(JSON.stringify(schema), 'utf8');
  meta['avro.codec'] = Buffer.from('deflate', 'utf8');
  const sync = randomBytes(16);
  const parts: Buffer[] = [headerType.toBuffer({ magic: MAGIC, meta, sync })];
  if (records.length > 0) {
    const data = deflateRawSync(Buffer.concat(records.map((r) => type.toBuffer(r))));
    parts.push(plainLong.toBuffer(records.length), plainLong.toBuffer(data.length), data, sync);
  }
  return Buffer.concat(parts);
}

/** A decoded Avro container file: its key-value metadata and records (by the writer's schema). */
export interface AvroFile {
  readonly metadata: Readonly<Record<string, string>>;
  readonly schema: object;
  readonly records: unknown[];
}

/** Decodes an Avro object container file written with the null or deflate codec. */
export function decodeAvroFile(bytes: Uint8Array, source: string): AvroFile {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!buf.subarray(0, 4).equals(MAGIC)) throw new IcebergSpecError(`${source} is not an Avro container file`);
  const header = headerType.decode(buf, 0) as { value: { meta: Record<string, Buffer>; sync: Buffer }; offset: number };
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(header.value.meta)) metadata[k] = v.toString('utf8');
  const codec = metadata['avro.codec'] ?? 'null';
  if (codec !== 'null' && codec !== 'deflate') throw new IcebergSpecError(`${source} uses unsupported Avro codec ${codec}`);
  const schema = JSON.parse(metadata['avro.schema'] ?? 'null') as object;
  const type = avroType(schema);
  const records: unknown[] = [];
  let pos = header.offset;
  while (pos < buf.length) {
    const count = plainLong.decode(buf, pos) as { value: number; offset: number };
    const size = plainLong.decode(buf, count.offset) as { value: number; offset: number };
    const raw = buf.subarray(size.offset, size.offset + size.value);
    const block = codec === 'deflate' ? inflateRawSync(raw) : raw;
    let at = 0;
    for (let i = 0; i < count.value; i++) {
      const r = type.decode(block, at) as { value: unknown; offset: number };
      if (r.offset < 0) throw new IcebergSpecError(`${source} has a truncated Avro block`);
      records.push(r.value);
      at = r.offset;
    }
    pos = size.offset + size.value + 16;
  }
  return { metadata, schema, records };
}
