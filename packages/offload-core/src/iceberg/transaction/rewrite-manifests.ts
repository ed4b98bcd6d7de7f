import { randomUUID } from 'node:crypto';
import { systemClock } from '../../clock.js';
import { formatIdentifier, type Catalog, type TableIdentifier } from '../catalog/catalog.js';
import { IcebergSpecError } from '../spec/errors.js';
import type { ManifestFile } from '../spec/manifest-list.js';
import { ManifestEntryStatus, type ManifestEntry } from '../spec/manifest.js';
import { bindPartitionSpec } from '../spec/partition.js';
import { partitionKey, replaceSummary, type SnapshotSummary } from '../spec/snapshot.js';
import { currentSchema, currentSnapshot, defaultSpec } from '../spec/table-metadata.js';
import { deleteAll, runCommitLoop, type CommitLoopOptions } from './commit-loop.js';
import { mergePolicyOf, writeManifestFile } from './manifest-merge.js';
import { produceSnapshot } from './snapshot-producer.js';
import { newSnapshotId } from './snapshot-id.js';
import { readManifestEntries, readSnapshotManifests } from './table-scan.js';

export interface RewriteManifestsOptions extends CommitLoopOptions {
  /** Manifests are packed up to about this size. Default: the table's `commit.manifest.target-size-bytes` (8 MiB). */
  readonly targetSizeBytes?: number;
  /** Extra summary properties, from the parent's summary. */
  readonly snapshotProperties?: (parent: SnapshotSummary) => Readonly<Record<string, string>>;
}

export interface RewriteManifestsResult {
  readonly manifestsBefore: number;
  readonly manifestsAfter: number;
  /** The `replace` snapshot, or null when there was nothing to rewrite. */
  readonly snapshotId: bigint | null;
}

/**
 * Rewrites the small data manifests of the default spec into manifests of
 * about the target size, entries clustered by partition so planning prunes
 * whole manifests (Java's `BaseRewriteManifests`). Live entries keep their
 * snapshot ids and sequence numbers as EXISTING; the number of live files
 * in must equal the number out. On the commit loop, each attempt re-plans
 * from the reloaded head, so only manifests still in head are replaced; a
 * rewrite whose inputs are unchanged is reused across attempts.
 */
export async function rewriteManifests(catalog: Catalog, identifier: TableIdentifier, options: RewriteManifestsOptions = {}): Promise<RewriteManifestsResult> {
  const name = formatIdentifier(identifier);
  const clock = options.clock ?? systemClock;
  const snapshotId = newSnapshotId();
  const commitUuid = randomUUID();
  let manifestCount = 0;
  let reusable: { key: string; manifests: ManifestFile[] } | undefined;
  const written: string[] = [];

  const { result } = await runCommitLoop<RewriteManifestsResult>(
    catalog,
    identifier,
    {
      name: 'rewrite-manifests',
      plan: async (base, attempt) => {
        const metadata = base.metadata;
        const head = currentSnapshot(metadata);
        const manifests = head ? await readSnapshotManifests(catalog.io, head) : [];
        const spec = defaultSpec(metadata);
        const target = options.targetSizeBytes ?? mergePolicyOf(metadata.properties).targetSizeBytes;
        const small = manifests.filter((m) => m.content === 0 && m.partitionSpecId === spec['spec-id'] && m.manifestLength < BigInt(target));
        if (!head || small.length < 2) return { updates: [], requirements: [], result: { manifestsBefore: manifests.length, manifestsAfter: manifests.length, snapshotId: null } };

        const sequenceNumber = BigInt(metadata.lastSequenceNumber + 1);
        const key = small.map((m) => m.manifestPath).join('\n');
        if (reusable?.key !== key) {
          const entries: ManifestEntry[] = [];
          for (const m of small) {
            for (const e of await readManifestEntries(catalog.io, metadata, m)) {
              if (e.status !== ManifestEntryStatus.DELETED) entries.push({ ...e, status: ManifestEntryStatus.EXISTING });
            }
          }
          entries.sort((a, b) => (partitionKey(a.dataFile.partition) < partitionKey(b.dataFile.partition) ? -1 : 1));
          const bytesPerEntry = Number(small.reduce((n, m) => n + m.manifestLength, 0n)) / Math.max(1, entries.length);
          const perManifest = Math.max(1, Math.floor(target / Math.max(1, bytesPerEntry)));
          const ctx = { schema: currentSchema(metadata), spec, partitionFields: bindPartitionSpec(spec, currentSchema(metadata)) };
          const out: ManifestFile[] = [];
          for (let i = 0; i < entries.length; i += perManifest) {
            const location = `${metadata.location}/metadata/${commitUuid}-m${manifestCount++}.avro`;
            written.push(location);
            out.push(await writeManifestFile(catalog.io, location, ctx, entries.slice(i, i + perManifest), snapshotId, sequenceNumber));
          }
          const liveIn = small.reduce((n, m) => n + m.addedFilesCount + m.existingFilesCount, 0);
          const liveOut = out.reduce((n, m) => n + m.existingFilesCount, 0);
          if (liveIn !== liveOut) throw new IcebergSpecError(`rewrite of ${name}'s manifests read ${liveOut} live files, the manifest list counts ${liveIn}`, { table: name });
          reusable = { key, manifests: out };
        }
        const rewritten = reusable.manifests.map((m) => ({ ...m, sequenceNumber }));
        const kept = manifests.filter((m) => !small.includes(m));
        const manifestListLocation = `${metadata.location}/metadata/snap-${snapshotId}-${attempt.number}-${commitUuid}.avro`;
        attempt.track(manifestListLocation);
        const produced = await produceSnapshot({
          io: catalog.io,
          base,
          snapshotId,
          manifests: [...rewritten, ...kept],
          summary: replaceSummary(head.summary, [], [], {
            ...options.snapshotProperties?.(head.summary),
            'manifests-created': String(rewritten.length),
            'manifests-replaced': String(small.length),
            'manifests-kept': String(kept.length),
          }),
          manifestListLocation,
          nowMs: clock.now().getTime(),
        });
        const after = rewritten.length + kept.length;
        return { updates: produced.updates, requirements: produced.requirements, result: { manifestsBefore: manifests.length, manifestsAfter: after, snapshotId } };
      },
      abandon: () => deleteAll(catalog.io, written),
    },
    options,
  );
  // Rewrites of earlier attempts whose inputs changed were never published.
  const published = new Set(result.snapshotId === null ? [] : (reusable?.manifests ?? []).map((m) => m.manifestPath));
  await deleteAll(catalog.io, written.filter((w) => !published.has(w)));
  return result;
}
