import { systemClock } from '../../clock.js';
import { OffloadError } from '../../errors.js';
import { formatIdentifier, type Catalog, type LoadedTable, type TableIdentifier } from '../catalog/catalog.js';
import type { FileIO } from '../io/file-io.js';
import type { ManifestFile } from '../spec/manifest-list.js';
import { ManifestEntryStatus } from '../spec/manifest.js';
import { MAIN_BRANCH, type Snapshot } from '../spec/snapshot.js';
import { snapshotById, type TableMetadata } from '../spec/table-metadata.js';
import { applyUpdates, type TableRequirement, type TableUpdate } from '../spec/table-update.js';
import { runCommitLoop, type CommitLoopOptions } from './commit-loop.js';
import { readManifestEntries, readSnapshotManifests } from './table-scan.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface ExpireSnapshotsOptions extends CommitLoopOptions {
  /**
   * Snapshots older than this (epoch ms) may expire. Default: now minus the
   * table's `history.expire.max-snapshot-age-ms` (Iceberg's default 5 days).
   */
  readonly olderThanMs?: number;
  /**
   * Ancestors of each branch head kept whatever their age, head included.
   * Default: the table's `history.expire.min-snapshots-to-keep` (1).
   */
  readonly retainLast?: number;
  /** Plan and report, commit and delete nothing. */
  readonly dryRun?: boolean;
}

/** What an expiry removed (or, in a dry run, would remove). */
export interface ExpireSnapshotsReport {
  readonly expiredSnapshotIds: readonly bigint[];
  readonly deletedManifestLists: readonly string[];
  readonly deletedManifests: readonly string[];
  readonly deletedDataFiles: readonly string[];
  /** Snapshots left in the table. */
  readonly retainedSnapshots: number;
  readonly dryRun: boolean;
}

/** The table's `gc.enabled` is false: its files may be shared with other tables, so none is deleted. */
export class GcDisabledError extends OffloadError {
  constructor(table: string, action = 'expire snapshots of') {
    super('config', `cannot ${action} ${table}: gc.enabled is false (its files may belong to other tables)`, { table });
  }
}

/** Whether the table allows deleting its files (Iceberg's `gc.enabled`, default true). */
export function gcEnabled(properties: Readonly<Record<string, string>>): boolean {
  return properties['gc.enabled']?.toLowerCase() !== 'false';
}

/**
 * Expires snapshots like Iceberg's `RemoveSnapshots` + `ReachableFileCleanup`:
 * keeps, per branch, the head and its ancestors while fewer than
 * `retainLast` are kept or they are newer than `olderThanMs`; keeps every
 * tag's snapshot and unreferenced snapshots newer than the cutoff. Commits
 * `remove-snapshots` on the shared loop (guarded by `main`'s head, so an
 * append landing meanwhile is re-planned around), then cleans against the
 * reloaded table: manifest lists of expired snapshots, manifests no retained
 * snapshot lists, and data files live in those manifests that no retained
 * manifest lists live. If a retained manifest cannot be read, no data file
 * is deleted. Refuses tables with `gc.enabled=false`.
 */
export async function expireSnapshots(
  catalog: Catalog,
  identifier: TableIdentifier,
  options: ExpireSnapshotsOptions = {},
): Promise<ExpireSnapshotsReport> {
  const name = formatIdentifier(identifier);
  const nowMs = (options.clock ?? systemClock).now().getTime();
  const plan = (base: LoadedTable): { expired: bigint[]; updates: TableUpdate[]; requirements: TableRequirement[] } => {
    if (!gcEnabled(base.metadata.properties)) throw new GcDisabledError(name);
    const expired = snapshotsToExpire(base.metadata, retentionOf(base.metadata, nowMs, options));
    return {
      expired,
      updates: expired.length > 0 ? [{ action: 'remove-snapshots', snapshotIds: expired }] : [],
      requirements: [
        { type: 'assert-table-uuid', uuid: base.metadata.tableUuid },
        { type: 'assert-ref-snapshot-id', ref: MAIN_BRANCH, snapshotId: base.metadata.refs[MAIN_BRANCH]?.snapshotId ?? null },
      ],
    };
  };

  if (options.dryRun) {
    const base = await catalog.loadTable(identifier);
    const { expired, updates } = plan(base);
    const after = applyUpdates(base.metadata, updates, nowMs);
    return { ...(await unreachableFiles(catalog.io, base.metadata, after)), expiredSnapshotIds: expired, retainedSnapshots: after.snapshots.length, dryRun: true };
  }

  const { table, result } = await runCommitLoop(
    catalog,
    identifier,
    {
      name: 'expire-snapshots',
      plan: (base) => {
        const { expired, updates, requirements } = plan(base);
        return Promise.resolve({ updates, requirements, result: { before: base.metadata, expired } });
      },
    },
    options,
  );
  if (result.expired.length === 0) {
    return { expiredSnapshotIds: [], deletedManifestLists: [], deletedManifests: [], deletedDataFiles: [], retainedSnapshots: table.metadata.snapshots.length, dryRun: false };
  }
  // Clean against a fresh load: a commit that landed since references only what it found retained.
  const reloaded = await catalog.loadTable(identifier);
  const files = await unreachableFiles(catalog.io, result.before, reloaded.metadata);
  for (const location of [...files.deletedDataFiles, ...files.deletedManifests, ...files.deletedManifestLists]) {
    await catalog.io.delete(location);
  }
  return { ...files, expiredSnapshotIds: result.expired, retainedSnapshots: reloaded.metadata.snapshots.length, dryRun: false };
}

interface Retention {
  readonly olderThanMs: number;
  readonly retainLast: number;
}

function retentionOf(metadata: TableMetadata, nowMs: number, options: ExpireSnapshotsOptions): Retention {
  const prop = (key: string, fallback: number): number => {
    const raw = metadata.properties[key];
    return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : fallback;
  };
  return {
    olderThanMs: options.olderThanMs ?? nowMs - prop('history.expire.max-snapshot-age-ms', 5 * DAY_MS),
    retainLast: Math.max(1, options.retainLast ?? prop('history.expire.min-snapshots-to-keep', 1)),
  };
}

/** Ids of the snapshots the retention rules let go, oldest first. */
export function snapshotsToExpire(metadata: TableMetadata, retention: Retention): bigint[] {
  const retained = new Set<bigint>();
  for (const ref of Object.values(metadata.refs)) {
    retained.add(ref.snapshotId);
    if (ref.type !== 'branch') continue;
    let kept = 0;
    for (let s = snapshotById(metadata, ref.snapshotId); s; s = parentOf(metadata, s)) {
      if (kept >= retention.retainLast && s.timestampMs < retention.olderThanMs) break;
      retained.add(s.snapshotId);
      kept++;
    }
  }
  const reachable = new Set<bigint>();
  for (const ref of Object.values(metadata.refs)) {
    for (let s = snapshotById(metadata, ref.snapshotId); s; s = parentOf(metadata, s)) reachable.add(s.snapshotId);
  }
  return metadata.snapshots
    .filter((s) => !retained.has(s.snapshotId) && (reachable.has(s.snapshotId) || s.timestampMs < retention.olderThanMs))
    .sort((a, b) => a.timestampMs - b.timestampMs)
    .map((s) => s.snapshotId);
}

function parentOf(metadata: TableMetadata, s: Snapshot): Snapshot | undefined {
  return s.parentSnapshotId === undefined ? undefined : snapshotById(metadata, s.parentSnapshotId);
}

/**
 * Files of the snapshots in `before` but not `after` that nothing in
 * `after` reaches. Data files are judged by live (not DELETED) entries on
 * both sides, as Iceberg's `ReachableFileCleanup` does.
 */
async function unreachableFiles(
  io: FileIO,
  before: TableMetadata,
  after: TableMetadata,
): Promise<Pick<ExpireSnapshotsReport, 'deletedManifestLists' | 'deletedManifests' | 'deletedDataFiles'>> {
  const kept = new Set(after.snapshots.map((s) => s.snapshotId));
  const expired = before.snapshots.filter((s) => !kept.has(s.snapshotId));
  const keptLists = new Set(after.snapshots.map((s) => s.manifestList));
  const retainedManifests = await manifestsOf(io, after.snapshots);
  const candidates = [...(await manifestsOf(io, expired)).values()].filter((m) => !retainedManifests.has(m.manifestPath));

  const livePaths = async (metadata: TableMetadata, manifests: Iterable<ManifestFile>): Promise<Set<string>> => {
    const out = new Set<string>();
    for (const m of manifests) {
      for (const e of await readManifestEntries(io, metadata, m)) {
        if (e.status !== ManifestEntryStatus.DELETED) out.add(e.dataFile.filePath);
      }
    }
    return out;
  };
  // Throws when a retained manifest cannot be read: then no data file is judged unreachable.
  const retainedData = await livePaths(after, retainedManifests.values());
  const expiredData = await livePaths(before, candidates);
  return {
    deletedManifestLists: [...new Set(expired.map((s) => s.manifestList))].filter((l) => !keptLists.has(l)),
    deletedManifests: [...new Set(candidates.map((m) => m.manifestPath))],
    deletedDataFiles: [...expiredData].filter((p) => !retainedData.has(p)).sort(),
  };
}

/** Every manifest the snapshots' manifest lists name, by path. */
async function manifestsOf(io: FileIO, snapshots: readonly Snapshot[]): Promise<Map<string, ManifestFile>> {
  const out = new Map<string, ManifestFile>();
  for (const s of snapshots) {
    for (const m of await readSnapshotManifests(io, s)) out.set(m.manifestPath, m);
  }
  return out;
}
