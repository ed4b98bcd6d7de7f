import { decodeAvroFile, encodeAvroFile } from './avro.js';
import { structToAvro, decimalRequiredBytes } from './avro-schema.js';
import type { DataFile, PartitionValue } from './data-file.js';
import { IcebergSpecError } from './errors.js';
import { partitionType, type BoundPartitionField, type PartitionSpec } from './partition.js';
import { decimalParams } from './schema.js';
import { stringifyJson } from './json.js';
import { decimalFromBytes, decimalToBytes, uuidFromBytes, uuidToBytes } from './values.js';
import type { IcebergSchema, NestedField, PrimitiveType, StructType } from './types.js';

/** Manifest entry status (field 0). */
export const ManifestEntryStatus = { EXISTING: 0, ADDED: 1, DELETED: 2 } as const;
export type ManifestEntryStatus = (typeof ManifestEntryStatus)[keyof typeof ManifestEntryStatus];

/**
 * One manifest entry. A null snapshot id or sequence number is inherited
 * from the manifest-list row when read (format v2 inheritance); readers
 * return them resolved.
 */
export interface ManifestEntry {
  readonly status: ManifestEntryStatus;
  readonly snapshotId: bigint | null;
  readonly sequenceNumber: bigint | null;
  readonly fileSequenceNumber: bigint | null;
  readonly dataFile: DataFile;
}

const intLongMap = (id: number, keyId: number, name: string, doc: string): NestedField => ({
  id,
  name,
  required: false,
  type: { type: 'map', 'key-id': keyId, key: 'int', 'value-id': keyId + 1, value: 'long', 'value-required': true },
  doc,
});
const intBinaryMap = (id: number, keyId: number, name: string, doc: string): NestedField => ({
  id,
  name,
  required: false,
  type: { type: 'map', 'key-id': keyId, key: 'int', 'value-id': keyId + 1, value: 'binary', 'value-required': true },
  doc,
});

/** The v2 `manifest_entry` schema (spec "Manifests"), for a given partition tuple type. */
export function manifestEntrySchema(partition: readonly NestedField[]): StructType {
  const dataFile: StructType = {
    type: 'struct',
    fields: [
      { id: 134, name: 'content', required: true, type: 'int', doc: 'Contents of the file: 0=data, 1=position deletes, 2=equality deletes' },
      { id: 100, name: 'file_path', required: true, type: 'string', doc: 'Location URI with FS scheme' },
      { id: 101, name: 'file_format', required: true, type: 'string', doc: 'File format name: avro, orc, or parquet' },
      { id: 102, name: 'partition', required: true, type: { type: 'struct', fields: partition }, doc: 'Partition data tuple, schema based on the partition spec' },
      { id: 103, name: 'record_count', required: true, type: 'long', doc: 'Number of records in the file' },
      { id: 104, name: 'file_size_in_bytes', required: true, type: 'long', doc: 'Total file size in bytes' },
      intLongMap(108, 117, 'column_sizes', 'Map of column id to total size on disk'),
      intLongMap(109, 119, 'value_counts', 'Map of column id to total count, including null and NaN'),
      intLongMap(110, 121, 'null_value_counts', 'Map of column id to null value count'),
      intLongMap(137, 138, 'nan_value_counts', 'Map of column id to number of NaN values in the column'),
      intBinaryMap(125, 126, 'lower_bounds', 'Map of column id to lower bound'),
      intBinaryMap(128, 129, 'upper_bounds', 'Map of column id to upper bound'),
      { id: 131, name: 'key_metadata', required: false, type: 'binary', doc: 'Encryption key metadata blob' },
      { id: 132, name: 'split_offsets', required: false, type: { type: 'list', 'element-id': 133, element: 'long', 'element-required': true }, doc: 'Splittable offsets' },
      { id: 135, name: 'equality_ids', required: false, type: { type: 'list', 'element-id': 136, element: 'int', 'element-required': true }, doc: 'Equality comparison field IDs' },
      { id: 140, name: 'sort_order_id', required: false, type: 'int', doc: 'Sort order ID' },
      { id: 143, name: 'referenced_data_file', required: false, type: 'string', doc: 'Fully qualified location (URI with FS scheme) of a data file that all deletes reference' },
    ],
  };
  return {
    type: 'struct',
    fields: [
      { id: 0, name: 'status', required: true, type: 'int' },
      { id: 1, name: 'snapshot_id', required: false, type: 'long' },
      { id: 3, name: 'sequence_number', required: false, type: 'long' },
      { id: 4, name: 'file_sequence_number', required: false, type: 'long' },
      { id: 2, name: 'data_file', required: true, type: dataFile },
    ],
  };
}

/** What a manifest is written for: the table schema and the bound spec of its files. */
export interface ManifestContext {
  readonly schema: IcebergSchema;
  readonly spec: PartitionSpec;
  readonly partitionFields: readonly BoundPartitionField[];
}

/** Encodes a v2 data manifest with the key-value metadata Iceberg readers expect. */
export function writeManifest(ctx: ManifestContext, entries: readonly ManifestEntry[]): Buffer {
  const struct = manifestEntrySchema(partitionType(ctx.partitionFields));
  const avroSchema = structToAvro(struct, 'manifest_entry');
  const records = entries.map((e) => ({
    status: e.status,
    snapshot_id: e.snapshotId,
    sequence_number: e.sequenceNumber,
    file_sequence_number: e.fileSequenceNumber,
    data_file: dataFileToAvro(ctx.partitionFields, e.dataFile),
  }));
  return encodeAvroFile(avroSchema, records, {
    schema: JSON.stringify(ctx.schema),
    'schema-id': String(ctx.schema['schema-id']),
    'partition-spec': JSON.stringify(ctx.spec.fields),
    'partition-spec-id': String(ctx.spec['spec-id']),
    'format-version': '2',
    content: 'data',
    'iceberg.schema': stringifyJson({ ...struct, 'schema-id': 0 }).replace(/\n\s*/g, ''),
  });
}

type AvroMapEntry<V> = { key: number; value: V };
const toEntries = <V>(m: ReadonlyMap<number, V>): AvroMapEntry<V>[] | null =>
  m.size === 0 ? null : [...m].sort(([a], [b]) => a - b).map(([key, value]) => ({ key, value }));

function dataFileToAvro(fields: readonly BoundPartitionField[], f: DataFile): Record<string, unknown> {
  const partition: Record<string, unknown> = {};
  fields.forEach((b, i) => {
    partition[b.field.name] = partitionToAvro(b.resultType, f.partition[i] ?? null);
  });
  return {
    content: 0,
    file_path: f.filePath,
    file_format: f.fileFormat,
    partition,
    record_count: f.recordCount,
    file_size_in_bytes: f.fileSizeInBytes,
    column_sizes: toEntries(f.columnSizes),
    value_counts: toEntries(f.valueCounts),
    null_value_counts: toEntries(f.nullValueCounts),
    nan_value_counts: toEntries(f.nanValueCounts),
    lower_bounds: toEntries(mapValues(f.lowerBounds, Buffer.from)),
    upper_bounds: toEntries(mapValues(f.upperBounds, Buffer.from)),
    key_metadata: null,
    split_offsets: f.splitOffsets.length === 0 ? null : [...f.splitOffsets],
    equality_ids: null,
    sort_order_id: f.sortOrderId ?? null,
    referenced_data_file: null,
  };
}

function mapValues<V, W>(m: ReadonlyMap<number, V>, fn: (v: V) => W): Map<number, W> {
  return new Map([...m].map(([k, v]) => [k, fn(v)]));
}

function partitionToAvro(type: PrimitiveType, v: PartitionValue): unknown {
  if (v === null) return null;
  if (type === 'long' || type === 'time' || type === 'timestamp' || type === 'timestamptz') return BigInt(v as bigint);
  if (type === 'uuid') return Buffer.from(uuidToBytes(String(v)));
  const dec = decimalParams(type);
  if (dec) {
    const minimal = decimalToBytes(BigInt(v as bigint));
    const size = decimalRequiredBytes(dec.precision);
    const pad = Buffer.alloc(size - minimal.length, (minimal[0] ?? 0) & 0x80 ? 0xff : 0);
    return Buffer.concat([pad, minimal]);
  }
  if (v instanceof Uint8Array) return Buffer.from(v);
  return v;
}

function partitionFromAvro(type: PrimitiveType, v: unknown): PartitionValue {
  if (v === null || v === undefined) return null;
  if (type === 'uuid') return uuidFromBytes(v as Buffer);
  if (decimalParams(type)) return decimalFromBytes(v as Buffer);
  if (Buffer.isBuffer(v)) return Uint8Array.from(v);
  return v as PartitionValue;
}

/** A decoded manifest: its metadata (schema, spec) and entries. */
export interface Manifest {
  readonly metadata: Readonly<Record<string, string>>;
  readonly entries: ManifestEntry[];
}

/**
 * Decodes a data manifest. Partition values are read by the spec stored in
 * the manifest's metadata, bound by the caller (it knows the table schema).
 */
export function readManifest(
  bytes: Uint8Array,
  source: string,
  partitionFieldsFor: (specJson: string) => readonly BoundPartitionField[],
): Manifest {
  const file = decodeAvroFile(bytes, source);
  if ((file.metadata['content'] ?? 'data') !== 'data') {
    throw new IcebergSpecError(`${source} is a ${file.metadata['content']} manifest; only data manifests are read`);
  }
  const fields = partitionFieldsFor(file.metadata['partition-spec'] ?? '[]');
  const entries = file.records.map((r) => entryFromAvro(fields, r as AvroEntry));
  return { metadata: file.metadata, entries };
}

interface AvroEntry {
  status: number;
  snapshot_id: bigint | null;
  sequence_number: bigint | null;
  file_sequence_number: bigint | null;
  data_file: {
    content: number;
    file_path: string;
    file_format: string;
    partition: Record<string, unknown>;
    record_count: bigint;
    file_size_in_bytes: bigint;
    column_sizes: AvroMapEntry<bigint>[] | null;
    value_counts: AvroMapEntry<bigint>[] | null;
    null_value_counts: AvroMapEntry<bigint>[] | null;
    nan_value_counts?: AvroMapEntry<bigint>[] | null;
    lower_bounds: AvroMapEntry<Buffer>[] | null;
    upper_bounds: AvroMapEntry<Buffer>[] | null;
    split_offsets: bigint[] | null;
    sort_order_id?: number | null;
  };
}

const fromEntries = <V, W>(e: AvroMapEntry<V>[] | null | undefined, fn: (v: V) => W): Map<number, W> =>
  new Map((e ?? []).map(({ key, value }) => [key, fn(value)]));
const id = <V>(v: V): V => v;

function entryFromAvro(fields: readonly BoundPartitionField[], r: AvroEntry): ManifestEntry {
  const d = r.data_file;
  if (d.content !== 0) throw new IcebergSpecError(`manifest entry ${d.file_path} is a delete file (content ${d.content})`);
  const format = d.file_format.toUpperCase();
  if (format !== 'PARQUET') throw new IcebergSpecError(`data file ${d.file_path} has unsupported format ${d.file_format}`);
  const dataFile: DataFile = {
    filePath: d.file_path,
    fileFormat: 'PARQUET',
    partition: fields.map((b) => partitionFromAvro(b.resultType, d.partition[b.field.name])),
    recordCount: d.record_count,
    fileSizeInBytes: d.file_size_in_bytes,
    columnSizes: fromEntries(d.column_sizes, id),
    valueCounts: fromEntries(d.value_counts, id),
    nullValueCounts: fromEntries(d.null_value_counts, id),
    nanValueCounts: fromEntries(d.nan_value_counts, id),
    lowerBounds: fromEntries(d.lower_bounds, (b) => Uint8Array.from(b)),
    upperBounds: fromEntries(d.upper_bounds, (b) => Uint8Array.from(b)),
    splitOffsets: d.split_offsets ?? [],
    ...(d.sort_order_id !== null && d.sort_order_id !== undefined ? { sortOrderId: d.sort_order_id } : {}),
  };
  return {
    status: r.status as ManifestEntryStatus,
    snapshotId: r.snapshot_id,
    sequenceNumber: r.sequence_number,
    fileSequenceNumber: r.file_sequence_number,
    dataFile,
  };
}
