import { decodeAvroFile, encodeAvroFile } from './avro.js';
import { structToAvro } from './avro-schema.js';
import type { PartitionValue } from './data-file.js';
import { stringifyJson } from './json.js';
import type { ManifestEntry } from './manifest.js';
import type { BoundPartitionField } from './partition.js';
import type { PrimitiveType, StructType } from './types.js';
import { valueToBytes } from './values.js';

/** Per-partition-field summary of a manifest (manifest-list field 508). */
export interface FieldSummary {
  readonly containsNull: boolean;
  readonly containsNan: boolean | null;
  readonly lowerBound: Uint8Array | null;
  readonly upperBound: Uint8Array | null;
}

/** One row of a manifest list: a manifest and its counts. */
export interface ManifestFile {
  readonly manifestPath: string;
  readonly manifestLength: bigint;
  readonly partitionSpecId: number;
  /** 0 = data, 1 = deletes. */
  readonly content: 0 | 1;
  readonly sequenceNumber: bigint;
  readonly minSequenceNumber: bigint;
  readonly addedSnapshotId: bigint;
  readonly addedFilesCount: number;
  readonly existingFilesCount: number;
  readonly deletedFilesCount: number;
  readonly addedRowsCount: bigint;
  readonly existingRowsCount: bigint;
  readonly deletedRowsCount: bigint;
  readonly partitions: readonly FieldSummary[] | null;
}

const fieldSummary: StructType = {
  type: 'struct',
  fields: [
    { id: 509, name: 'contains_null', required: true, type: 'boolean', doc: 'True if any file has a null partition value' },
    { id: 518, name: 'contains_nan', required: false, type: 'boolean', doc: 'True if any file has a nan partition value' },
    { id: 510, name: 'lower_bound', required: false, type: 'binary', doc: 'Partition lower bound for all files' },
    { id: 511, name: 'upper_bound', required: false, type: 'binary', doc: 'Partition upper bound for all files' },
  ],
};

/** The v2 `manifest_file` schema (spec "Manifest Lists"), in the field order Iceberg 1.8 writes. */
export const MANIFEST_FILE_SCHEMA: StructType = {
  type: 'struct',
  fields: [
    { id: 500, name: 'manifest_path', required: true, type: 'string', doc: 'Location URI with FS scheme' },
    { id: 501, name: 'manifest_length', required: true, type: 'long', doc: 'Total file size in bytes' },
    { id: 502, name: 'partition_spec_id', required: true, type: 'int', doc: 'Spec ID used to write' },
    { id: 517, name: 'content', required: true, type: 'int', doc: 'Contents of the manifest: 0=data, 1=deletes' },
    { id: 515, name: 'sequence_number', required: true, type: 'long', doc: 'Sequence number when the manifest was added' },
    { id: 516, name: 'min_sequence_number', required: true, type: 'long', doc: 'Lowest sequence number in the manifest' },
    { id: 503, name: 'added_snapshot_id', required: true, type: 'long', doc: 'Snapshot ID that added the manifest' },
    { id: 504, name: 'added_files_count', required: true, type: 'int', doc: 'Added entry count' },
    { id: 505, name: 'existing_files_count', required: true, type: 'int', doc: 'Existing entry count' },
    { id: 506, name: 'deleted_files_count', required: true, type: 'int', doc: 'Deleted entry count' },
    { id: 512, name: 'added_rows_count', required: true, type: 'long', doc: 'Added rows count' },
    { id: 513, name: 'existing_rows_count', required: true, type: 'long', doc: 'Existing rows count' },
    { id: 514, name: 'deleted_rows_count', required: true, type: 'long', doc: 'Deleted rows count' },
    {
      id: 507,
      name: 'partitions',
      required: false,
      type: { type: 'list', 'element-id': 508, element: fieldSummary, 'element-required': true },
      doc: 'Summary for each partition',
    },
    { id: 519, name: 'key_metadata', required: false, type: 'binary', doc: 'Encryption key metadata blob' },
  ],
};

const AVRO_SCHEMA = structToAvro(MANIFEST_FILE_SCHEMA, 'manifest_file');

/** The snapshot a manifest list belongs to (written into its Avro metadata). */
export interface ManifestListContext {
  readonly snapshotId: bigint;
  readonly parentSnapshotId: bigint | undefined;
  readonly sequenceNumber: number;
}

const orNull = (b: Uint8Array | null): Buffer | null => (b === null ? null : Buffer.from(b));

export function writeManifestList(ctx: ManifestListContext, manifests: readonly ManifestFile[]): Buffer {
  const records = manifests.map((m) => ({
    manifest_path: m.manifestPath,
    manifest_length: m.manifestLength,
    partition_spec_id: m.partitionSpecId,
    content: m.content,
    sequence_number: m.sequenceNumber,
    min_sequence_number: m.minSequenceNumber,
    added_snapshot_id: m.addedSnapshotId,
    added_files_count: m.addedFilesCount,
    existing_files_count: m.existingFilesCount,
    deleted_files_count: m.deletedFilesCount,
    added_rows_count: m.addedRowsCount,
    existing_rows_count: m.existingRowsCount,
    deleted_rows_count: m.deletedRowsCount,
    partitions:
      m.partitions?.map((p) => ({
        contains_null: p.containsNull,
        contains_nan: p.containsNan,
        lower_bound: orNull(p.lowerBound),
        upper_bound: orNull(p.upperBound),
      })) ?? null,
    key_metadata: null,
  }));
  return encodeAvroFile(AVRO_SCHEMA, records, {
    'snapshot-id': String(ctx.snapshotId),
    'parent-snapshot-id': ctx.parentSnapshotId === undefined ? 'null' : String(ctx.parentSnapshotId),
    'sequence-number': String(ctx.sequenceNumber),
    'format-version': '2',
    'iceberg.schema': stringifyJson({ ...MANIFEST_FILE_SCHEMA, 'schema-id': 0 }).replace(/\n\s*/g, ''),
  });
}

interface AvroManifestFile {
  manifest_path: string;
  manifest_length: bigint;
  partition_spec_id: number;
  content?: number;
  sequence_number?: bigint;
  min_sequence_number?: bigint;
  added_snapshot_id: bigint;
  added_files_count: number;
  existing_files_count: number;
  deleted_files_count: number;
  added_rows_count: bigint;
  existing_rows_count: bigint;
  deleted_rows_count: bigint;
  partitions: { contains_null: boolean; contains_nan?: boolean | null; lower_bound: Buffer | null; upper_bound: Buffer | null }[] | null;
}

export function readManifestList(bytes: Uint8Array, source: string): ManifestFile[] {
  return decodeAvroFile(bytes, source).records.map((raw) => {
    const r = raw as AvroManifestFile;
    return {
      manifestPath: r.manifest_path,
      manifestLength: r.manifest_length,
      partitionSpecId: r.partition_spec_id,
      content: r.content === 1 ? 1 : 0,
      sequenceNumber: r.sequence_number ?? 0n,
      minSequenceNumber: r.min_sequence_number ?? 0n,
      addedSnapshotId: r.added_snapshot_id,
      addedFilesCount: r.added_files_count,
      existingFilesCount: r.existing_files_count,
      deletedFilesCount: r.deleted_files_count,
      addedRowsCount: r.added_rows_count,
      existingRowsCount: r.existing_rows_count,
      deletedRowsCount: r.deleted_rows_count,
      partitions:
        r.partitions?.map((p) => ({
          containsNull: p.contains_null,
          containsNan: p.contains_nan ?? null,
          lowerBound: p.lower_bound === null ? null : Uint8Array.from(p.lower_bound),
          upperBound: p.upper_bound === null ? null : Uint8Array.from(p.upper_bound),
        })) ?? null,
    };
  });
}

/** Partition field summaries over a manifest's entries (bounds in single-value serialisation). */
export function summarizePartitions(fields: readonly BoundPartitionField[], entries: readonly ManifestEntry[]): FieldSummary[] {
  return fields.map((b, i) => {
    let containsNull = false;
    let containsNan = false;
    let min: PartitionValue = null;
    let max: PartitionValue = null;
    for (const e of entries) {
      const v = e.dataFile.partition[i] ?? null;
      if (v === null) containsNull = true;
      else if (typeof v === 'number' && Number.isNaN(v)) containsNan = true;
      else {
        if (min === null || compareValues(v, min) < 0) min = v;
        if (max === null || compareValues(v, max) > 0) max = v;
      }
    }
    return {
      containsNull,
      containsNan,
      lowerBound: min === null ? null : valueToBytes(b.resultType, min),
      upperBound: max === null ? null : valueToBytes(b.resultType as PrimitiveType, max),
    };
  });
}

function compareValues(a: Exclude<PartitionValue, null>, b: Exclude<PartitionValue, null>): number {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b);
  if (typeof a === 'string' && typeof b === 'string') return Buffer.compare(Buffer.from(a), Buffer.from(b));
  return a < b ? -1 : a > b ? 1 : 0;
}
