import type { FileIO } from '../io/file-io.js';
import type { DataFile } from '../spec/data-file.js';
import { parseJson } from '../spec/json.js';
import { readManifest, ManifestEntryStatus, type ManifestEntry } from '../spec/manifest.js';
import { readManifestList, type ManifestFile } from '../spec/manifest-list.js';
import { bindPartitionSpec, type PartitionField, type PartitionSpec } from '../spec/partition.js';
import type { Snapshot } from '../spec/snapshot.js';
import { currentSchema, currentSnapshot, snapshotById, type TableMetadata } from '../spec/table-metadata.js';

/** The manifests of a snapshot, from its manifest list. */
export async function readSnapshotManifests(io: FileIO, snapshot: Snapshot): Promise<ManifestFile[]> {
  return readManifestList(await io.read(snapshot.manifestList), snapshot.manifestList);
}

/**
 * The entries of one data manifest with v2 inheritance resolved: a null
 * snapshot id or sequence number takes the manifest-list row's value.
 */
export async function readManifestEntries(io: FileIO, metadata: TableMetadata, manifest: ManifestFile): Promise<ManifestEntry[]> {
  const schema = currentSchema(metadata);
  const bytes = await io.read(manifest.manifestPath);
  const { entries } = readManifest(bytes, manifest.manifestPath, (specJson) => {
    const known = metadata.partitionSpecs.find((s) => s['spec-id'] === manifest.partitionSpecId);
    const spec: PartitionSpec = known ?? { 'spec-id': manifest.partitionSpecId, fields: parseJson(specJson) as unknown as PartitionField[] };
    return bindPartitionSpec(spec, schema);
  });
  return entries.map((e) => ({
    ...e,
    snapshotId: e.snapshotId ?? manifest.addedSnapshotId,
    sequenceNumber: e.sequenceNumber ?? manifest.sequenceNumber,
    fileSequenceNumber: e.fileSequenceNumber ?? manifest.sequenceNumber,
  }));
}

/** A live data file and the snapshot that added it. */
export interface LiveDataFile {
  readonly dataFile: DataFile;
  readonly snapshotId: bigint;
  readonly sequenceNumber: bigint;
  /** The partition spec of the manifest that lists it. */
  readonly specId: number;
}

/**
 * The data files a snapshot (default: the current one) contains: every
 * non-deleted entry of its data manifests. Delete manifests are not
 * interpreted; Coldtier tables have none.
 */
export async function listLiveDataFiles(io: FileIO, metadata: TableMetadata, snapshot = currentSnapshot(metadata)): Promise<LiveDataFile[]> {
  if (!snapshot) return [];
  const out: LiveDataFile[] = [];
  for (const manifest of await readSnapshotManifests(io, snapshot)) {
    if (manifest.content !== 0) continue;
    for (const e of await readManifestEntries(io, metadata, manifest)) {
      if (e.status === ManifestEntryStatus.DELETED) continue;
      out.push({
        dataFile: e.dataFile,
        snapshotId: e.snapshotId ?? manifest.addedSnapshotId,
        sequenceNumber: e.sequenceNumber ?? 0n,
        specId: manifest.partitionSpecId,
      });
    }
  }
  return out;
}

/**
 * The snapshots of the `main` branch from the current one back to the first,
 * newest first: their summaries carry Coldtier's `coldtier.*` properties
 * (the watermark of each commit), which recovery and reconciliation read.
 */
export function mainAncestry(metadata: TableMetadata): Snapshot[] {
  const out: Snapshot[] = [];
  let s = currentSnapshot(metadata);
  while (s) {
    out.push(s);
    s = s.parentSnapshotId === undefined ? undefined : snapshotById(metadata, s.parentSnapshotId);
  }
  return out;
}

/** The newest value of a summary property along `main` (e.g. `coldtier.watermark`), if any snapshot set it. */
export function latestSummaryValue(metadata: TableMetadata, key: string): string | undefined {
  for (const s of mainAncestry(metadata)) {
    const v = s.summary[key];
    if (v !== undefined) return v;
  }
  return undefined;
}
