import { systemClock } from '../../clock.js';
import { messageOf } from '../../errors.js';
import { silentLogger } from '../../logger.js';
import { formatIdentifier, type Catalog, type TableIdentifier } from '../catalog/catalog.js';
import type { FileIO } from '../io/file-io.js';
import { partitionKey } from '../spec/snapshot.js';
import { currentSnapshot, type TableMetadata } from '../spec/table-metadata.js';
import type { CommitLoopOptions } from '../transaction/commit-loop.js';
import { expireSnapshots, GcDisabledError, type ExpireSnapshotsReport } from '../transaction/expire-snapshots.js';
import { rewriteManifests, type RewriteManifestsResult } from '../transaction/rewrite-manifests.js';
import { listLiveDataFiles, readSnapshotManifests } from '../transaction/table-scan.js';
import { compactTable, type CompactionReport, type DataFileRewriter } from './compaction.js';
import type { CompactionPolicy } from './compaction-plan.js';
import { cleanOrphanFiles, type OrphanReport } from './orphans.js';

/** The maintenance actions, in the order they run (compaction first, so expiry can later drop what it replaced). */
export const MAINTENANCE_ACTIONS = ['compact', 'rewrite_manifests', 'expire_snapshots', 'remove_orphans'] as const;
export type MaintenanceAction = (typeof MAINTENANCE_ACTIONS)[number];

/** The shape of a table, before and after maintenance. */
export interface TableStats {
  readonly snapshots: number;
  /** Manifests in the current snapshot's manifest list. */
  readonly manifests: number;
  readonly dataFiles: number;
  readonly partitions: number;
  /** The most data files any one partition has. */
  readonly maxFilesPerPartition: number;
  readonly dataBytes: number;
}

export interface ActionOutcome {
  readonly action: MaintenanceAction;
  readonly status: 'success' | 'failed' | 'skipped';
  readonly durationSeconds: number;
  /** Bytes of data files rewritten (compaction) or deleted (expiry, orphans). */
  readonly bytes: number;
  /** The action's own report; the error message when it failed; why when skipped. */
  readonly detail: CompactionReport | RewriteManifestsResult | ExpireSnapshotsReport | OrphanReport | string;
}

export interface MaintenanceReport {
  readonly table: string;
  readonly dryRun: boolean;
  readonly before: TableStats;
  readonly after: TableStats;
  readonly actions: readonly ActionOutcome[];
}

export interface MaintainOptions extends CommitLoopOptions {
  /** Writes compacted files; without one, compaction is skipped. */
  readonly rewriter?: DataFileRewriter;
  /** Default: all of {@link MAINTENANCE_ACTIONS}. */
  readonly actions?: readonly MaintenanceAction[];
  readonly compaction?: Partial<CompactionPolicy>;
  /** Expiry overrides of the table's `history.expire.*` properties. */
  readonly expire?: { readonly olderThanMs?: number; readonly retainLast?: number };
  /** Orphan grace period; default 3 days. */
  readonly orphanGraceMs?: number;
  readonly dryRun?: boolean;
  readonly signal?: AbortSignal;
  /** Called as each action starts and ends, and as compaction progresses. */
  readonly onProgress?: (event: MaintenanceProgress) => void;
}

export type MaintenanceProgress =
  | { readonly kind: 'start'; readonly action: MaintenanceAction }
  | { readonly kind: 'step'; readonly action: MaintenanceAction; readonly done: number; readonly total: number }
  | { readonly kind: 'end'; readonly outcome: ActionOutcome };

/**
 * Runs the table's maintenance: compaction of small files, manifest
 * rewriting, snapshot expiry and orphan cleanup, each on its own (one that
 * fails is reported and the next still runs). Each action commits through
 * the shared commit loop, so offloads of the table may run meanwhile; the
 * caller decides when (the scheduler holds the table's lease).
 */
export async function maintainTable(catalog: Catalog, identifier: TableIdentifier, options: MaintainOptions = {}): Promise<MaintenanceReport> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const table = formatIdentifier(identifier);
  const dryRun = options.dryRun ?? false;
  const before = await tableStats(catalog.io, (await catalog.loadTable(identifier)).metadata);
  const wanted = new Set(options.actions ?? MAINTENANCE_ACTIONS);
  const outcomes: ActionOutcome[] = [];

  const steps: Record<MaintenanceAction, () => Promise<{ bytes: number; detail: ActionOutcome['detail'] } | string>> = {
    compact: async () => {
      if (!options.rewriter) return "no data file rewriter: compaction needs a ClickHouse that reaches the table's files";
      const report = await compactTable(catalog, identifier, options.rewriter, {
        ...options,
        ...(options.compaction ? { policy: options.compaction } : {}),
        dryRun,
        onProgress: (done, total) => options.onProgress?.({ kind: 'step', action: 'compact', done, total }),
      });
      return { bytes: report.bytesRewritten, detail: report };
    },
    rewrite_manifests: async () => {
      if (dryRun) return 'dry run';
      const result = await rewriteManifests(catalog, identifier, options);
      return { bytes: 0, detail: result };
    },
    expire_snapshots: async () => {
      const report = await expireSnapshots(catalog, identifier, { ...options, ...options.expire, dryRun });
      return { bytes: 0, detail: report };
    },
    remove_orphans: async () => {
      const report = await cleanOrphanFiles(catalog, identifier, {
        dryRun,
        clock,
        ...(options.orphanGraceMs === undefined ? {} : { olderThanMs: options.orphanGraceMs }),
      });
      return { bytes: report.bytes, detail: report };
    },
  };

  for (const action of MAINTENANCE_ACTIONS) {
    if (!wanted.has(action)) continue;
    options.signal?.throwIfAborted();
    options.onProgress?.({ kind: 'start', action });
    const started = clock.now().getTime();
    const seconds = (): number => Math.max(0, (clock.now().getTime() - started) / 1000);
    let outcome: ActionOutcome;
    try {
      const result = await steps[action]();
      outcome =
        typeof result === 'string'
          ? { action, status: 'skipped', durationSeconds: seconds(), bytes: 0, detail: result }
          : { action, status: 'success', durationSeconds: seconds(), ...result };
    } catch (error) {
      if (options.signal?.aborted) throw error;
      // gc.enabled=false: the table's owner said its files are not ours to delete; a choice, not a failure.
      const skipped = error instanceof GcDisabledError;
      if (!skipped) logger.warn('iceberg maintenance action failed', { table, action, error: messageOf(error) });
      outcome = { action, status: skipped ? 'skipped' : 'failed', durationSeconds: seconds(), bytes: 0, detail: messageOf(error) };
    }
    outcomes.push(outcome);
    options.onProgress?.({ kind: 'end', outcome });
  }
  const after = await tableStats(catalog.io, (await catalog.loadTable(identifier)).metadata);
  logger.info('iceberg maintenance done', { table, dataFilesBefore: before.dataFiles, dataFilesAfter: after.dataFiles, snapshotsAfter: after.snapshots });
  return { table, dryRun, before, after, actions: outcomes };
}

/** Snapshots, manifests and data files of the table's current state. */
export async function tableStats(io: FileIO, metadata: TableMetadata): Promise<TableStats> {
  const head = currentSnapshot(metadata);
  const manifests = head ? await readSnapshotManifests(io, head) : [];
  const live = await listLiveDataFiles(io, metadata);
  const perPartition = new Map<string, number>();
  for (const f of live) {
    const key = `${f.specId}/${partitionKey(f.dataFile.partition)}`;
    perPartition.set(key, (perPartition.get(key) ?? 0) + 1);
  }
  return {
    snapshots: metadata.snapshots.length,
    manifests: manifests.length,
    dataFiles: live.length,
    partitions: perPartition.size,
    maxFilesPerPartition: Math.max(0, ...perPartition.values()),
    dataBytes: live.reduce((n, f) => n + Number(f.dataFile.fileSizeInBytes), 0),
  };
}
