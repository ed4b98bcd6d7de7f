import { randomUUID } from 'node:crypto';
import { systemClock } from '../../clock.js';
import { OffloadError } from '../../errors.js';
import { formatIdentifier, type Catalog, type LoadedTable, type TableIdentifier } from '../catalog/catalog.js';
import type { FileIO } from '../io/file-io.js';
import type { DataFile } from '../spec/data-file.js';
import { IcebergSpecError } from '../spec/errors.js';
import type { ManifestFile } from '../spec/manifest-list.js';
import { ManifestEntryStatus, type ManifestContext, type ManifestEntry } from '../spec/manifest.js';
import { bindPartitionSpec, type BoundPartitionField } from '../spec/partition.js';
import type { PrimitiveType } from '../spec/types.js';
import { valueFromBytes, valueToBytes } from '../spec/values.js';
import { replaceSummary, type Snapshot, type SnapshotSummary } from '../spec/snapshot.js';
import { currentSchema, currentSnapshot, snapshotById, type TableMetadata } from '../spec/table-metadata.js';
import { runCommitLoop, type CommitAttempt, type CommitLoopOptions } from './commit-loop.js';
import { mergeManifests, mergePolicyOf, writeManifestFile, type MergePolicy } from './manifest-merge.js';
import { produceSnapshot } from './snapshot-producer.js';
import { newSnapshotId } from './snapshot-id.js';
import { readManifestEntries, readSnapshotManifests } from './table-scan.js';

/**
 * A concurrent change makes a rewrite invalid (a replaced file is gone, a
 * delete file appeared, the start snapshot expired). Not retryable: the
 * same rewrite fails the same way; plan it again from the new state.
 */
export class RewriteValidationError extends OffloadError {
  constructor(table: string, message: string) {
    super('commit_conflict', `rewrite of ${table} is no longer valid: ${message}`, { table, retryable: false });
  }
}

export interface RewriteFilesOptions extends CommitLoopOptions {
  /**
   * The snapshot the rewrite was planned from (Java's `validateFromSnapshot`):
   * each attempt checks what changed since. If it was expired, the rewrite fails.
   */
  readonly startSnapshotId: bigint;
  /** Partition spec of the replaced and the added files. */
  readonly specId: number;
  /**
   * Extra summary properties, from the parent's summary (compaction carries
   * `coldtier.*` forward so the summaries keep the watermark).
   */
  readonly snapshotProperties?: (parent: SnapshotSummary) => Readonly<Record<string, string>>;
  /** Overrides the table's `commit.manifest*` merge properties. */
  readonly merge?: Partial<MergePolicy>;
}

export interface RewriteFilesResult {
  readonly table: LoadedTable;
  readonly snapshot: Snapshot;
  readonly attempts: number;
}

/**
 * Replaces data files by others holding the same rows, in one `replace`
 * snapshot (Java's `BaseRewriteFiles`). Each attempt, on the shared commit
 * loop, validates against the reloaded head that every replaced file is
 * still live and no delete manifest arrived since the start snapshot;
 * appends that landed meanwhile do not conflict. Only manifests holding a
 * replaced file are rewritten, their entries becoming DELETED under the new
 * snapshot id (the rest EXISTING, with the snapshot ids and sequence numbers
 * they had).
 */
export async function rewriteFiles(
  catalog: Catalog,
  identifier: TableIdentifier,
  replaced: readonly DataFile[],
  added: readonly DataFile[],
  options: RewriteFilesOptions,
): Promise<RewriteFilesResult> {
  const name = formatIdentifier(identifier);
  const clock = options.clock ?? systemClock;
  const snapshotId = newSnapshotId();
  const commitUuid = randomUUID();
  const replacedPaths = new Set(replaced.map((f) => f.filePath));
  let manifestCount = 0;

  const { table, result, attempts } = await runCommitLoop(
    catalog,
    identifier,
    {
      name: 'replace',
      plan: async (base, attempt) => {
        const metadata = base.metadata;
        const nextLocation = (): string => {
          const location = `${metadata.location}/metadata/${commitUuid}-m${manifestCount++}.avro`;
          attempt.track(location);
          return location;
        };
        const head = validatedHead(metadata, options.startSnapshotId, name);
        const existing = await readSnapshotManifests(catalog.io, head);
        assertNoNewDeletes(existing, head, metadata, options.startSnapshotId, name);
        const ctx = contextOf(metadata, options.specId, name);
        const sequenceNumber = BigInt(metadata.lastSequenceNumber + 1);
        const filtered = await filterManifests({
          io: catalog.io,
          metadata,
          manifests: existing,
          replacedPaths,
          mayHold: (m) => m.partitionSpecId === options.specId && replaced.some((f) => mayContain(m, ctx.partitionFields, f.partition)),
          snapshotId,
          nextLocation,
          sequenceNumber,
        });
        const missing = [...replacedPaths].filter((p) => !filtered.found.has(p));
        if (missing.length > 0) throw new RewriteValidationError(name, `${missing.length} replaced file(s) are no longer live, e.g. ${missing[0]}`);

        const addedManifest = await writeAdded(catalog.io, nextLocation(), ctx, added, snapshotId, sequenceNumber);
        const merged = await mergeManifests({
          io: catalog.io,
          metadata,
          ctx,
          existing: filtered.manifests,
          newCount: 1,
          policy: { ...mergePolicyOf(metadata.properties), ...options.merge },
          snapshotId,
          sequenceNumber,
          nextLocation,
        });
        const produced = await produceSnapshot({
          io: catalog.io,
          base,
          snapshotId,
          manifests: [addedManifest, ...merged.manifests],
          summary: replaceSummary(head.summary, added, replaced, options.snapshotProperties?.(head.summary) ?? {}),
          manifestListLocation: manifestList(metadata, snapshotId, attempt, commitUuid),
          nowMs: clock.now().getTime(),
        });
        attempt.track(produced.snapshot.manifestList);
        return { updates: produced.updates, requirements: produced.requirements, result: produced.snapshot };
      },
    },
    options,
  );
  return { table, snapshot: result, attempts };
}

function manifestList(metadata: TableMetadata, snapshotId: bigint, attempt: CommitAttempt, uuid: string): string {
  return `${metadata.location}/metadata/snap-${snapshotId}-${attempt.number}-${uuid}.avro`;
}

function validatedHead(metadata: TableMetadata, startSnapshotId: bigint, name: string): Snapshot {
  if (!snapshotById(metadata, startSnapshotId)) {
    throw new RewriteValidationError(name, `start snapshot ${startSnapshotId} no longer exists (expired?)`);
  }
  const head = currentSnapshot(metadata);
  if (!head) throw new RewriteValidationError(name, 'the table has no current snapshot');
  return head;
}

/** Refuses when a delete manifest was added after the start snapshot: the replaced rows may be deleted now. */
function assertNoNewDeletes(manifests: readonly ManifestFile[], head: Snapshot, metadata: TableMetadata, startSnapshotId: bigint, name: string): void {
  const start = snapshotById(metadata, startSnapshotId);
  const since = BigInt(start?.sequenceNumber ?? head.sequenceNumber);
  const added = manifests.find((m) => m.content === 1 && m.sequenceNumber > since);
  if (added) throw new RewriteValidationError(name, `delete manifest ${added.manifestPath} was added since snapshot ${startSnapshotId}`);
}

function contextOf(metadata: TableMetadata, specId: number, name: string): ManifestContext {
  const spec = metadata.partitionSpecs.find((s) => s['spec-id'] === specId);
  if (!spec) throw new IcebergSpecError(`table ${name} has no partition spec ${specId}`, { table: name });
  const schema = currentSchema(metadata);
  return { schema, spec, partitionFields: bindPartitionSpec(spec, schema) };
}

/**
 * Java's `ManifestFilterManager`: manifests without a replaced file are kept
 * as they are (those `mayHold` rules out by their partition summaries are
 * not even read); the others are rewritten with the replaced entries DELETED
 * under `snapshotId`, the live ones EXISTING and earlier DELETED ones dropped.
 */
async function filterManifests(input: {
  io: FileIO;
  metadata: TableMetadata;
  manifests: readonly ManifestFile[];
  replacedPaths: ReadonlySet<string>;
  mayHold: (manifest: ManifestFile) => boolean;
  snapshotId: bigint;
  sequenceNumber: bigint;
  nextLocation: () => string;
}): Promise<{ manifests: ManifestFile[]; found: Set<string> }> {
  const found = new Set<string>();
  const out: ManifestFile[] = [];
  for (const manifest of input.manifests) {
    if (manifest.content !== 0 || !input.mayHold(manifest)) {
      out.push(manifest);
      continue;
    }
    const entries = await readManifestEntries(input.io, input.metadata, manifest);
    const hits = entries.filter((e) => e.status !== ManifestEntryStatus.DELETED && input.replacedPaths.has(e.dataFile.filePath));
    if (hits.length === 0) {
      out.push(manifest);
      continue;
    }
    const rewritten: ManifestEntry[] = [];
    for (const e of entries) {
      if (e.status === ManifestEntryStatus.DELETED) continue;
      if (input.replacedPaths.has(e.dataFile.filePath)) {
        found.add(e.dataFile.filePath);
        rewritten.push({ ...e, status: ManifestEntryStatus.DELETED, snapshotId: input.snapshotId });
      } else {
        rewritten.push({ ...e, status: ManifestEntryStatus.EXISTING });
      }
    }
    const ctx = contextOf(input.metadata, manifest.partitionSpecId, input.metadata.location);
    out.push(await writeManifestFile(input.io, input.nextLocation(), ctx, rewritten, input.snapshotId, input.sequenceNumber));
  }
  return { manifests: out, found };
}

async function writeAdded(io: FileIO, location: string, ctx: ManifestContext, files: readonly DataFile[], snapshotId: bigint, sequenceNumber: bigint): Promise<ManifestFile> {
  const bad = files.find((f) => f.partition.length !== ctx.partitionFields.length);
  if (bad) throw new IcebergSpecError(`data file ${bad.filePath} does not match partition spec ${ctx.spec['spec-id']}`);
  const entries = files.map((dataFile) => ({ status: ManifestEntryStatus.ADDED, snapshotId, sequenceNumber: null, fileSequenceNumber: null, dataFile }));
  return writeManifestFile(io, location, ctx, entries, snapshotId, sequenceNumber);
}

/** Types whose bounds compare as numbers; the rest compare as their serialized bytes (UTF-8 for strings), unsigned. */
const NUMERIC = new Set<PrimitiveType>(['int', 'long', 'date', 'time', 'timestamp', 'timestamptz']);
const BYTEWISE = new Set<PrimitiveType>(['string', 'binary', 'uuid']);

/**
 * Whether a manifest's partition summaries admit a file with `partition`
 * (Java's `ManifestEvaluator` for an equality on every field). Unsure
 * means yes: a manifest wrongly ruled out would make a live file look gone.
 */
export function mayContain(manifest: ManifestFile, fields: readonly BoundPartitionField[], partition: DataFile['partition']): boolean {
  const summaries = manifest.partitions;
  if (!summaries || summaries.length !== fields.length) return true;
  return fields.every((field, i) => {
    const summary = summaries[i]!;
    const value = partition[i] ?? null;
    if (value === null) return summary.containsNull;
    const { lowerBound: lower, upperBound: upper } = summary;
    if (lower === null || upper === null) return lower !== null || upper !== null || !summary.containsNull;
    const type = field.resultType;
    if (NUMERIC.has(type)) {
      const v = BigInt(value as number | bigint);
      return BigInt(valueFromBytes(type, lower) as number | bigint) <= v && v <= BigInt(valueFromBytes(type, upper) as number | bigint);
    }
    if (BYTEWISE.has(type)) {
      const bytes = valueToBytes(type, value);
      return Buffer.compare(Buffer.from(lower), Buffer.from(bytes)) <= 0 && Buffer.compare(Buffer.from(bytes), Buffer.from(upper)) <= 0;
    }
    return true;
  });
}
