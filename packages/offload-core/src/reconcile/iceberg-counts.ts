import type { FileIO } from '../iceberg/io/file-io.js';
import type { DataFile } from '../iceberg/spec/data-file.js';
import { ManifestEntryStatus } from '../iceberg/spec/manifest.js';
import type { ManifestFile } from '../iceberg/spec/manifest-list.js';
import type { PartitionSpec } from '../iceberg/spec/partition.js';
import { parseTransform } from '../iceberg/spec/transform.js';
import { currentSnapshot } from '../iceberg/spec/table-metadata.js';
import type { TableMetadata } from '../iceberg/spec/table-metadata.js';
import { valueFromBytes } from '../iceberg/spec/values.js';
import type { NestedField } from '../iceberg/spec/types.js';
import { readManifestEntries, readSnapshotManifests } from '../iceberg/transaction/table-scan.js';
import { bucketStartMicros, hourToDay } from './buckets.js';
import type { Granularity } from './buckets.js';

/** Where, in a spec, the bucket of a data file can be read from its partition tuple. */
interface BucketField {
  readonly index: number;
  readonly transform: 'day' | 'hour';
}

/**
 * The partition field that numbers a file's rows in `granularity` buckets:
 * a day or hour transform of the timestamp field, no finer than the spec's
 * (an hour partition sums into days; a day partition cannot split into hours).
 */
function bucketField(spec: PartitionSpec | undefined, timestampFieldId: number, granularity: Granularity): BucketField | undefined {
  const index = spec?.fields.findIndex((f) => {
    if (f['source-id'] !== timestampFieldId) return false;
    const kind = safeTransformKind(f.transform);
    return kind === 'hour' || (kind === 'day' && granularity === 'day');
  });
  if (spec === undefined || index === undefined || index < 0) return undefined;
  return { index, transform: safeTransformKind(spec.fields[index]!.transform) as 'day' | 'hour' };
}

function safeTransformKind(text: string): string | undefined {
  try {
    return parseTransform(text).kind;
  } catch {
    return undefined;
  }
}

function bucketOf(file: DataFile, field: BucketField, granularity: Granularity): number | undefined {
  const value = file.partition[field.index];
  if (typeof value !== 'number') return undefined;
  return field.transform === 'hour' && granularity === 'day' ? hourToDay(value) : value;
}

async function dataManifests(io: FileIO, metadata: TableMetadata): Promise<ManifestFile[]> {
  const snapshot = currentSnapshot(metadata);
  if (!snapshot) return [];
  return (await readSnapshotManifests(io, snapshot)).filter((m) => m.content === 0);
}

async function liveFiles(io: FileIO, metadata: TableMetadata, manifest: ManifestFile): Promise<DataFile[]> {
  const entries = await readManifestEntries(io, metadata, manifest);
  return entries.filter((e) => e.status !== ManifestEntryStatus.DELETED).map((e) => e.dataFile);
}

/**
 * Rows per bucket from the manifests alone (each live file's `record_count`
 * under its partition value), or `undefined` when some manifest's spec does
 * not partition by a day or hour of the timestamp at this granularity.
 * Reads the manifest list and manifests, never a data file.
 */
export async function countFromMetadata(
  io: FileIO,
  metadata: TableMetadata,
  timestamp: NestedField,
  granularity: Granularity,
): Promise<Map<number, number> | undefined> {
  const manifests = await dataManifests(io, metadata);
  const fields = manifests.map((m) => bucketField(metadata.partitionSpecs.find((s) => s['spec-id'] === m.partitionSpecId), timestamp.id, granularity));
  if (fields.some((f) => f === undefined)) return undefined;
  const counts = new Map<number, number>();
  for (const [i, manifest] of manifests.entries()) {
    for (const file of await liveFiles(io, metadata, manifest)) {
      const bucket = bucketOf(file, fields[i]!, granularity);
      if (bucket === undefined) return undefined;
      counts.set(bucket, (counts.get(bucket) ?? 0) + Number(file.recordCount));
    }
  }
  return counts;
}

/**
 * The live data files that may hold rows in buckets [first, end): files
 * whose timestamp bounds fall wholly outside are skipped; files without
 * bounds are kept.
 */
export async function filesInRange(
  io: FileIO,
  metadata: TableMetadata,
  timestamp: NestedField,
  granularity: Granularity,
  first: number,
  end: number,
): Promise<DataFile[]> {
  const from = bucketStartMicros(first, granularity);
  const to = bucketStartMicros(end, granularity);
  const out: DataFile[] = [];
  for (const manifest of await dataManifests(io, metadata)) {
    for (const file of await liveFiles(io, metadata, manifest)) {
      const lower = micros(timestamp, file.lowerBounds.get(timestamp.id));
      const upper = micros(timestamp, file.upperBounds.get(timestamp.id));
      if ((upper !== undefined && upper < from) || (lower !== undefined && lower >= to)) continue;
      out.push(file);
    }
  }
  return out;
}

function micros(field: NestedField, bytes: Uint8Array | undefined): bigint | undefined {
  if (!bytes || (field.type !== 'timestamp' && field.type !== 'timestamptz')) return undefined;
  return valueFromBytes(field.type, bytes) as bigint;
}

