import { randomUUID } from 'node:crypto';
import { systemClock } from '../../clock.js';
import { formatIdentifier, type Catalog, type CommitOptions, type LoadedTable, type TableIdentifier } from '../catalog/catalog.js';
import type { DataFile } from '../spec/data-file.js';
import { IcebergSpecError } from '../spec/errors.js';
import type { ManifestFile } from '../spec/manifest-list.js';
import { ManifestEntryStatus, type ManifestContext } from '../spec/manifest.js';
import { bindPartitionSpec } from '../spec/partition.js';
import { appendSummary, type Snapshot } from '../spec/snapshot.js';
import { currentSchema, currentSnapshot, defaultSpec, snapshotById, type TableMetadata } from '../spec/table-metadata.js';
import { deleteAll, runCommitLoop, type CommitAction, type CommitLoopOptions } from './commit-loop.js';
import { mergeManifests, mergePolicyOf, writeManifestFile, type MergePolicy } from './manifest-merge.js';
import { produceSnapshot } from './snapshot-producer.js';
import { newSnapshotId } from './snapshot-id.js';
import { readSnapshotManifests } from './table-scan.js';

export interface FastAppendOptions extends CommitLoopOptions {
  /** Extra snapshot summary properties (e.g. `coldtier.watermark`); computed totals win on clashes. */
  readonly snapshotProperties?: Readonly<Record<string, string>>;
  /**
   * Called with the freshly loaded table before every attempt; throw to
   * refuse the commit (e.g. another writer advanced this source's
   * `coldtier.watermark` since the run planned). The error propagates as is.
   * The commit asserts `main` still points where it did in that base, so a
   * base that passed validation is exactly the base the snapshot lands on.
   */
  readonly validate?: (base: LoadedTable) => void | Promise<void>;
  /** Passed to {@link Catalog.commitTable} on every attempt (the PostgreSQL transaction hook). */
  readonly commit?: CommitOptions;
  /**
   * Like `commit`, but built for each attempt from the snapshot it commits,
   * so a transaction hook can record the snapshot id. Wins over `commit`.
   */
  readonly commitFor?: (snapshot: Snapshot) => CommitOptions;
  /**
   * Table properties set in the same commit as the snapshot (e.g. the
   * `coldtier.watermark.<source>` marker, which snapshot expiry cannot drop).
   */
  readonly tableProperties?: Readonly<Record<string, string>>;
  /** Overrides the table's `commit.manifest*` merge properties. */
  readonly merge?: Partial<MergePolicy>;
}

export interface FastAppendResult {
  readonly table: LoadedTable;
  readonly snapshot: Snapshot;
  /** Attempts made, 1 when the first commit landed. */
  readonly attempts: number;
}

/**
 * Appends data files to a table in one new snapshot, like Iceberg's
 * `FastAppend` plus manifest merging. The added files' manifest is written
 * once; on the shared commit loop ({@link runCommitLoop}) each attempt
 * re-validates against the reloaded table, writes a manifest list over the
 * fresh parent's manifests and commits `add-snapshot` + `set-snapshot-ref
 * main` guarded by `assert-ref-snapshot-id`. The snapshot id is fixed across
 * attempts, so every reload first looks for it: a conflict caused by this
 * append's own earlier commit (its answer was lost) ends in success, not a
 * second snapshot. Conflicts retry as the table's `commit.retry.*` says.
 * Files are deleted only after a proven failure: never on an unknown
 * outcome, and after a conflict only once a reload shows the snapshot absent.
 */
export async function fastAppend(
  catalog: Catalog,
  identifier: TableIdentifier,
  dataFiles: readonly DataFile[],
  options: FastAppendOptions = {},
): Promise<FastAppendResult> {
  const name = formatIdentifier(identifier);
  const clock = options.clock ?? systemClock;
  const snapshotId = newSnapshotId();
  const commitUuid = randomUUID();
  let manifestCount = 0;
  const nextManifest = (base: TableMetadata): string => `${base.location}/metadata/${commitUuid}-m${manifestCount++}.avro`;

  let added: { manifest: ManifestFile; specId: number } | undefined;
  const replaced: string[] = [];
  const action: CommitAction<Snapshot> = {
    name: 'append',
    landed: (base) => snapshotById(base.metadata, snapshotId),
    plan: async (base, attempt) => {
      await options.validate?.(base);
      const ctx = manifestContext(base.metadata, name);
      checkPartitions(dataFiles, ctx, name);
      const sequenceNumber = BigInt(base.metadata.lastSequenceNumber + 1);
      if (added?.specId !== ctx.spec['spec-id']) {
        if (added) replaced.push(added.manifest.manifestPath);
        const entries = dataFiles.map((dataFile) => ({
          status: ManifestEntryStatus.ADDED,
          snapshotId,
          sequenceNumber: null,
          fileSequenceNumber: null,
          dataFile,
        }));
        const location = nextManifest(base.metadata);
        added = { manifest: await writeManifestFile(catalog.io, location, ctx, entries, snapshotId, sequenceNumber), specId: ctx.spec['spec-id'] };
      }
      const parent = currentSnapshot(base.metadata);
      const merged = await mergeManifests({
        io: catalog.io,
        metadata: base.metadata,
        ctx,
        existing: parent ? await readSnapshotManifests(catalog.io, parent) : [],
        newCount: 1,
        policy: { ...mergePolicyOf(base.metadata.properties), ...options.merge },
        snapshotId,
        sequenceNumber,
        nextLocation: () => nextManifest(base.metadata),
      });
      merged.written.forEach(attempt.track);
      const manifestListLocation = `${base.metadata.location}/metadata/snap-${snapshotId}-${attempt.number}-${commitUuid}.avro`;
      attempt.track(manifestListLocation);
      const produced = await produceSnapshot({
        io: catalog.io,
        base,
        snapshotId,
        manifests: [{ ...added.manifest, sequenceNumber, minSequenceNumber: sequenceNumber }, ...merged.manifests],
        summary: appendSummary(parent?.summary, dataFiles, options.snapshotProperties ?? {}),
        manifestListLocation,
        nowMs: clock.now().getTime(),
      });
      const properties = options.tableProperties ?? {};
      return {
        updates: [
          ...produced.updates,
          ...(Object.keys(properties).length > 0 ? [{ action: 'set-properties' as const, updates: properties }] : []),
        ],
        requirements: produced.requirements,
        result: produced.snapshot,
        ...withCommitOptions(options.commitFor?.(produced.snapshot) ?? options.commit),
      };
    },
    abandon: () => deleteAll(catalog.io, [...replaced, ...(added ? [added.manifest.manifestPath] : [])]),
  };
  const { table, result, attempts } = await runCommitLoop(catalog, identifier, action, options);
  return { table, snapshot: result, attempts };
}

function withCommitOptions(commit: CommitOptions | undefined): { commit?: CommitOptions } {
  return commit ? { commit } : {};
}

function manifestContext(metadata: TableMetadata, table: string): ManifestContext {
  const schema = currentSchema(metadata);
  const spec = defaultSpec(metadata);
  try {
    return { schema, spec, partitionFields: bindPartitionSpec(spec, schema) };
  } catch (cause) {
    throw new IcebergSpecError(`table ${table} has an unusable partition spec`, { table, cause });
  }
}

function checkPartitions(files: readonly DataFile[], ctx: ManifestContext, table: string): void {
  const bad = files.find((f) => f.partition.length !== ctx.partitionFields.length);
  if (bad) {
    throw new IcebergSpecError(
      `data file ${bad.filePath} has ${bad.partition.length} partition values; spec ${ctx.spec['spec-id']} of ${table} has ${ctx.partitionFields.length} fields`,
      { table },
    );
  }
}
