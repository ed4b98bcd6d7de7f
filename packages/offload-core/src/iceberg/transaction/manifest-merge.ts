import type { FileIO } from '../io/file-io.js';
import { ManifestEntryStatus, writeManifest, type ManifestContext, type ManifestEntry } from '../spec/manifest.js';
import { summarizePartitions, type ManifestFile } from '../spec/manifest-list.js';
import type { TableMetadata } from '../spec/table-metadata.js';
import { readManifestEntries } from './table-scan.js';

/** When and how far to merge manifests (Iceberg's `commit.manifest*` table properties). */
export interface MergePolicy {
  readonly enabled: boolean;
  /** Merge once the manifest list would hold at least this many manifests. */
  readonly minCountToMerge: number;
  /** Manifests at or above this size are left alone; merged ones are packed up to it. */
  readonly targetSizeBytes: number;
}

/** The policy from table properties, with Iceberg's defaults (true, 100, 8 MiB). */
export function mergePolicyOf(properties: Readonly<Record<string, string>>): MergePolicy {
  const num = (key: string, fallback: number): number => {
    const v = Number(properties[key]);
    return Number.isFinite(v) && v > 0 ? v : fallback;
  };
  return {
    enabled: properties['commit.manifest-merge.enabled'] !== 'false',
    minCountToMerge: num('commit.manifest.min-count-to-merge', 100),
    targetSizeBytes: num('commit.manifest.target-size-bytes', 8 * 1024 * 1024),
  };
}

/** Writes a manifest and describes it for the manifest list. */
export async function writeManifestFile(
  io: FileIO,
  location: string,
  ctx: ManifestContext,
  entries: readonly ManifestEntry[],
  addedSnapshotId: bigint,
  sequenceNumber: bigint,
): Promise<ManifestFile> {
  const bytes = writeManifest(ctx, entries);
  await io.create(location, bytes);
  let added = 0;
  let existing = 0;
  let deleted = 0;
  let addedRows = 0n;
  let existingRows = 0n;
  let deletedRows = 0n;
  let minSeq = sequenceNumber;
  for (const e of entries) {
    const rows = e.dataFile.recordCount;
    if (e.status === ManifestEntryStatus.ADDED) [added, addedRows] = [added + 1, addedRows + rows];
    else if (e.status === ManifestEntryStatus.EXISTING) [existing, existingRows] = [existing + 1, existingRows + rows];
    else [deleted, deletedRows] = [deleted + 1, deletedRows + rows];
    if (e.sequenceNumber !== null && e.sequenceNumber < minSeq) minSeq = e.sequenceNumber;
  }
  return {
    manifestPath: location,
    manifestLength: BigInt(bytes.length),
    partitionSpecId: ctx.spec['spec-id'],
    content: 0,
    sequenceNumber,
    minSequenceNumber: minSeq,
    addedSnapshotId,
    addedFilesCount: added,
    existingFilesCount: existing,
    deletedFilesCount: deleted,
    addedRowsCount: addedRows,
    existingRowsCount: existingRows,
    deletedRowsCount: deletedRows,
    partitions: summarizePartitions(ctx.partitionFields, entries),
  };
}

/**
 * Keeps the manifest list bounded: when `existing` plus the new manifests
 * reach the policy's count, small data manifests of the current spec are
 * packed into manifests of up to the target size. Their live entries are
 * rewritten as EXISTING with the snapshot id and sequence numbers they
 * already had, so readers see the same files at the same sequence numbers;
 * DELETED entries are dropped unless the new snapshot itself deleted them
 * (Java's `ManifestMergeManager`).
 * Returns the new manifest list (merged manifests first) and the files it wrote.
 */
export async function mergeManifests(input: {
  io: FileIO;
  metadata: TableMetadata;
  ctx: ManifestContext;
  existing: readonly ManifestFile[];
  newCount: number;
  policy: MergePolicy;
  snapshotId: bigint;
  sequenceNumber: bigint;
  nextLocation: () => string;
}): Promise<{ manifests: ManifestFile[]; written: string[] }> {
  const { existing, policy, ctx } = input;
  if (!policy.enabled || existing.length + input.newCount < policy.minCountToMerge) {
    return { manifests: [...existing], written: [] };
  }
  const mergeable = (m: ManifestFile): boolean =>
    m.content === 0 && m.partitionSpecId === ctx.spec['spec-id'] && m.manifestLength < BigInt(policy.targetSizeBytes);
  const kept = existing.filter((m) => !mergeable(m));
  const bins: ManifestFile[][] = [];
  let bin: ManifestFile[] = [];
  let binSize = 0n;
  for (const m of existing.filter(mergeable)) {
    if (bin.length > 0 && binSize + m.manifestLength > BigInt(policy.targetSizeBytes)) {
      bins.push(bin);
      [bin, binSize] = [[], 0n];
    }
    bin.push(m);
    binSize += m.manifestLength;
  }
  if (bin.length > 0) bins.push(bin);

  const merged: ManifestFile[] = [];
  const written: string[] = [];
  for (const group of bins) {
    if (group.length === 1) {
      merged.push(...group);
      continue;
    }
    const entries: ManifestEntry[] = [];
    for (const m of group) {
      for (const e of await readManifestEntries(input.io, input.metadata, m)) {
        // DELETED entries of earlier snapshots are history; this snapshot's own must stay, or expiry cannot find the files it replaced.
        if (e.status !== ManifestEntryStatus.DELETED) entries.push({ ...e, status: ManifestEntryStatus.EXISTING });
        else if (e.snapshotId === input.snapshotId) entries.push(e);
      }
    }
    const location = input.nextLocation();
    merged.push(await writeManifestFile(input.io, location, ctx, entries, input.snapshotId, input.sequenceNumber));
    written.push(location);
  }
  return { manifests: [...merged, ...kept], written };
}
