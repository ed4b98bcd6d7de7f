import type { LoadedTable } from '../catalog/catalog.js';
import type { FileIO } from '../io/file-io.js';
import { writeManifestList, type ManifestFile } from '../spec/manifest-list.js';
import { MAIN_BRANCH, type Snapshot, type SnapshotSummary } from '../spec/snapshot.js';
import { currentSnapshot } from '../spec/table-metadata.js';
import type { TableRequirement, TableUpdate } from '../spec/table-update.js';

/** A snapshot ready to commit onto `main`, with the updates and requirements that commit it. */
export interface ProducedSnapshot {
  readonly snapshot: Snapshot;
  readonly updates: TableUpdate[];
  readonly requirements: TableRequirement[];
}

/**
 * The last step every snapshot-producing action shares (Java's
 * `SnapshotProducer.apply`): writes the manifest list of `manifests` at
 * `manifestListLocation` and describes the snapshot as the child of `main`'s
 * head in `base`, committed by `add-snapshot` + `set-snapshot-ref main`
 * guarded by `assert-ref-snapshot-id`, so it lands exactly on the base it
 * was planned from.
 */
export async function produceSnapshot(input: {
  readonly io: FileIO;
  readonly base: LoadedTable;
  readonly snapshotId: bigint;
  readonly manifests: readonly ManifestFile[];
  readonly summary: SnapshotSummary;
  readonly manifestListLocation: string;
  readonly nowMs: number;
}): Promise<ProducedSnapshot> {
  const metadata = input.base.metadata;
  const parent = currentSnapshot(metadata);
  const sequenceNumber = metadata.lastSequenceNumber + 1;
  await input.io.create(
    input.manifestListLocation,
    writeManifestList({ snapshotId: input.snapshotId, parentSnapshotId: parent?.snapshotId, sequenceNumber }, input.manifests),
  );
  const snapshot: Snapshot = {
    snapshotId: input.snapshotId,
    ...(parent ? { parentSnapshotId: parent.snapshotId } : {}),
    sequenceNumber,
    timestampMs: Math.max(input.nowMs, metadata.lastUpdatedMs),
    manifestList: input.manifestListLocation,
    summary: input.summary,
    schemaId: metadata.currentSchemaId,
  };
  return {
    snapshot,
    updates: [
      { action: 'add-snapshot', snapshot },
      { action: 'set-snapshot-ref', refName: MAIN_BRANCH, snapshotId: input.snapshotId, type: 'branch' },
    ],
    requirements: [
      { type: 'assert-table-uuid', uuid: metadata.tableUuid },
      { type: 'assert-ref-snapshot-id', ref: MAIN_BRANCH, snapshotId: parent?.snapshotId ?? null },
    ],
  };
}
