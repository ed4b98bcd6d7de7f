import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../../clock.js';
import { silentLogger, type Logger } from '../../logger.js';
import {
  CommitConflictError,
  CommitStateUnknownError,
  formatIdentifier,
  type Catalog,
  type CommitOptions,
  type LoadedTable,
  type TableIdentifier,
} from '../catalog/catalog.js';
import type { FileIO } from '../io/file-io.js';
import type { DataFile } from '../spec/data-file.js';
import { IcebergSpecError } from '../spec/errors.js';
import { writeManifestList, type ManifestFile } from '../spec/manifest-list.js';
import { ManifestEntryStatus, type ManifestContext } from '../spec/manifest.js';
import { bindPartitionSpec } from '../spec/partition.js';
import { appendSummary, MAIN_BRANCH, type Snapshot } from '../spec/snapshot.js';
import { currentSchema, currentSnapshot, defaultSpec, snapshotById, type TableMetadata } from '../spec/table-metadata.js';
import type { TableRequirement, TableUpdate } from '../spec/table-update.js';
import { mergeManifests, mergePolicyOf, writeManifestFile, type MergePolicy } from './manifest-merge.js';
import { newSnapshotId } from './snapshot-id.js';
import { readSnapshotManifests } from './table-scan.js';

export interface RetryPolicy {
  /** Retries after the first attempt (Iceberg's `commit.retry.num-retries`, default 4). */
  readonly retries: number;
  readonly minWaitMs: number;
  readonly maxWaitMs: number;
}

export interface FastAppendOptions {
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
  /** Overrides the table's `commit.manifest*` merge properties. */
  readonly merge?: Partial<MergePolicy>;
  readonly retry?: Partial<RetryPolicy>;
  /** Injected for tests; defaults to setTimeout. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export interface FastAppendResult {
  readonly table: LoadedTable;
  readonly snapshot: Snapshot;
  /** Attempts made, 1 when the first commit landed. */
  readonly attempts: number;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Appends data files to a table in one new snapshot, like Iceberg's
 * `FastAppend` plus manifest merging. The added files' manifest is written
 * once; each attempt reloads the table, re-validates, writes a manifest
 * list over the fresh parent's manifests and commits `add-snapshot` +
 * `set-snapshot-ref main` guarded by `assert-ref-snapshot-id`. The snapshot
 * id is fixed across attempts, so every reload first looks for it: a
 * conflict caused by this append's own earlier commit (its answer was lost)
 * ends in success, not a second snapshot. Conflicts retry with exponential
 * backoff. An unknown outcome ({@link CommitStateUnknownError}) is resolved
 * by a reload when the snapshot is there, else rethrown. Files are deleted
 * only after a proven failure: never on an unknown outcome, and on a
 * conflict only once a reload shows the snapshot absent.
 */
export async function fastAppend(
  catalog: Catalog,
  identifier: TableIdentifier,
  dataFiles: readonly DataFile[],
  options: FastAppendOptions = {},
): Promise<FastAppendResult> {
  const name = formatIdentifier(identifier);
  const clock = options.clock ?? systemClock;
  const sleep = options.sleep ?? defaultSleep;
  const logger = options.logger ?? silentLogger;
  const retry: RetryPolicy = { retries: 4, minWaitMs: 100, maxWaitMs: 60_000, ...options.retry };
  const snapshotId = newSnapshotId();
  const commitUuid = randomUUID();
  let manifestCount = 0;
  const nextManifest = (base: TableMetadata): string => `${base.location}/metadata/${commitUuid}-m${manifestCount++}.avro`;

  let added: { manifest: ManifestFile; specId: number } | undefined;
  const cleanup: string[] = [];
  // Files of a rejected attempt, kept until a reload proves its snapshot did not land after all.
  let unproven: string[] | undefined;
  try {
    for (let attempt = 1; ; attempt++) {
      const base = await catalog.loadTable(identifier);
      // A 409 can be our own earlier commit answering late (a re-sent request): look for our snapshot first.
      const landed = snapshotById(base.metadata, snapshotId);
      if (landed) {
        logger.info('iceberg append found its own snapshot committed', { table: name, snapshotId: String(snapshotId), attempt: attempt - 1 });
        return { table: base, snapshot: landed, attempts: attempt - 1 };
      }
      if (unproven) await deleteAll(catalog.io, unproven);
      unproven = undefined;
      await options.validate?.(base);
      const ctx = manifestContext(base.metadata, name);
      checkPartitions(dataFiles, ctx, name);
      const sequenceNumber = BigInt(base.metadata.lastSequenceNumber + 1);
      if (added?.specId !== ctx.spec['spec-id']) {
        if (added) cleanup.push(added.manifest.manifestPath);
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
      const attemptFiles: string[] = [];
      try {
        const { snapshot, updates, requirements } = await planAttempt({
          io: catalog.io,
          base,
          ctx,
          added: { ...added.manifest, sequenceNumber, minSequenceNumber: sequenceNumber },
          dataFiles,
          snapshotId,
          sequenceNumber,
          manifestListLocation: `${base.metadata.location}/metadata/snap-${snapshotId}-${attempt}-${commitUuid}.avro`,
          policy: { ...mergePolicyOf(base.metadata.properties), ...options.merge },
          nextManifest: () => nextManifest(base.metadata),
          written: attemptFiles,
          nowMs: clock.now().getTime(),
          snapshotProperties: options.snapshotProperties ?? {},
        });
        const table = await catalog.commitTable(identifier, requirements, updates, options.commitFor?.(snapshot) ?? options.commit);
        logger.info('iceberg append committed', { table: name, snapshotId: String(snapshotId), attempt });
        return { table, snapshot, attempts: attempt };
      } catch (error) {
        if (error instanceof CommitStateUnknownError) {
          const resolved = await findOwnSnapshot(catalog, identifier, snapshotId);
          if (resolved) {
            logger.info('iceberg append outcome was unknown; its snapshot is committed', { table: name, snapshotId: String(snapshotId), attempt });
            return { table: resolved.table, snapshot: resolved.snapshot, attempts: attempt };
          }
          // Not visible yet is no proof of failure: orphans are harmless, dangling references are not.
          added = undefined;
          throw error;
        }
        if (error instanceof CommitConflictError) {
          unproven = attemptFiles;
          if (attempt > retry.retries) {
            const resolved = await findOwnSnapshot(catalog, identifier, snapshotId);
            if (resolved) return { table: resolved.table, snapshot: resolved.snapshot, attempts: attempt };
            unproven = undefined;
            await deleteAll(catalog.io, attemptFiles);
            throw error;
          }
          const wait = Math.min(retry.maxWaitMs, retry.minWaitMs * 2 ** (attempt - 1));
          logger.warn('iceberg commit conflict, retrying', { table: name, attempt, waitMs: wait, error: error.message });
          await sleep(wait);
          continue;
        }
        // Failed before the commit, or the catalog refused it outright: nothing references these files.
        await deleteAll(catalog.io, attemptFiles);
        throw error;
      }
    }
  } catch (error) {
    // While a rejected attempt is unproven (its reload failed), its snapshot may be live: keep its files.
    if (added && !unproven) cleanup.push(added.manifest.manifestPath);
    throw error;
  } finally {
    await deleteAll(catalog.io, cleanup);
  }
}

/**
 * Reloads the table and looks for the snapshot id this append fixed up
 * front (Java's `checkCommitStatus`); undefined when it is not there or the
 * table cannot be loaded now.
 */
async function findOwnSnapshot(catalog: Catalog, identifier: TableIdentifier, snapshotId: bigint): Promise<{ table: LoadedTable; snapshot: Snapshot } | undefined> {
  try {
    const table = await catalog.loadTable(identifier);
    const snapshot = snapshotById(table.metadata, snapshotId);
    return snapshot ? { table, snapshot } : undefined;
  } catch {
    return undefined;
  }
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

async function planAttempt(input: {
  io: FileIO;
  base: LoadedTable;
  ctx: ManifestContext;
  added: ManifestFile;
  dataFiles: readonly DataFile[];
  snapshotId: bigint;
  sequenceNumber: bigint;
  manifestListLocation: string;
  policy: MergePolicy;
  nextManifest: () => string;
  written: string[];
  nowMs: number;
  snapshotProperties: Readonly<Record<string, string>>;
}): Promise<{ snapshot: Snapshot; updates: TableUpdate[]; requirements: TableRequirement[] }> {
  const metadata = input.base.metadata;
  const parent = currentSnapshot(metadata);
  const existing = parent ? await readSnapshotManifests(input.io, parent) : [];
  const merged = await mergeManifests({
    io: input.io,
    metadata,
    ctx: input.ctx,
    existing,
    newCount: 1,
    policy: input.policy,
    snapshotId: input.snapshotId,
    sequenceNumber: input.sequenceNumber,
    nextLocation: input.nextManifest,
  });
  input.written.push(...merged.written);
  const sequenceNumber = Number(input.sequenceNumber);
  await input.io.create(
    input.manifestListLocation,
    writeManifestList(
      { snapshotId: input.snapshotId, parentSnapshotId: parent?.snapshotId, sequenceNumber },
      [input.added, ...merged.manifests],
    ),
  );
  input.written.push(input.manifestListLocation);
  const snapshot: Snapshot = {
    snapshotId: input.snapshotId,
    ...(parent ? { parentSnapshotId: parent.snapshotId } : {}),
    sequenceNumber,
    timestampMs: Math.max(input.nowMs, metadata.lastUpdatedMs),
    manifestList: input.manifestListLocation,
    summary: appendSummary(parent?.summary, input.dataFiles, input.snapshotProperties),
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

async function deleteAll(io: FileIO, locations: readonly string[]): Promise<void> {
  await Promise.all(locations.map((l) => io.delete(l).catch(() => undefined)));
}
