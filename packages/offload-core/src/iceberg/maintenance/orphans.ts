import { systemClock, type Clock } from '../../clock.js';
import { OffloadError } from '../../errors.js';
import { formatIdentifier, type Catalog, type LoadedTable, type TableIdentifier } from '../catalog/catalog.js';
import type { FileInfo, FileIO } from '../io/file-io.js';
import { localPath } from '../io/local.js';
import type { JsonValue } from '../spec/json.js';
import { GcDisabledError, gcEnabled } from '../transaction/expire-snapshots.js';
import { readManifestEntries, readSnapshotManifests } from '../transaction/table-scan.js';

export interface OrphanCleanupOptions {
  /**
   * Only files last modified at least this long ago count: a commit in
   * flight has files no metadata references yet. Keep it well above the
   * longest run. Default 3 days, as Iceberg's `DeleteOrphanFiles`.
   */
  readonly olderThanMs?: number;
  /** List and report; delete nothing. */
  readonly dryRun?: boolean;
  readonly clock?: Clock;
}

/** Files under a table's `data/` and `metadata/` that no metadata references. */
export interface OrphanReport {
  readonly dataFiles: readonly FileInfo[];
  readonly metadataFiles: readonly FileInfo[];
  readonly bytes: number;
  readonly dryRun: boolean;
}

export const DEFAULT_ORPHAN_GRACE_MS = 3 * 24 * 60 * 60 * 1000;

/**
 * Finds, and unless `dryRun` deletes, files under the table's `data/` and
 * `metadata/` that nothing references (Java's `DeleteOrphanFiles`): data
 * files and manifests of runs that never committed, manifest lists and
 * `vN.metadata.json` of failed commits. Valid are the current metadata
 * file and its log, `version-hint.text`, every snapshot's manifest list,
 * its manifests and the data files they list (any status), and statistics
 * files. Only files older than the grace period count, and the table is
 * read again after listing, so a commit that lands meanwhile keeps its files.
 * Refuses a table with `gc.enabled=false`, as Iceberg does.
 */
export async function cleanOrphanFiles(catalog: Catalog, identifier: TableIdentifier, options: OrphanCleanupOptions = {}): Promise<OrphanReport> {
  const io = catalog.io;
  if (!io.listRecursive) {
    throw new OffloadError('config', `orphan cleanup of ${formatIdentifier(identifier)}: the table's storage cannot list files recursively`, {
      table: formatIdentifier(identifier),
    });
  }
  const cutoff = (options.clock ?? systemClock).now().getTime() - (options.olderThanMs ?? DEFAULT_ORPHAN_GRACE_MS);
  const before = await catalog.loadTable(identifier);
  if (!gcEnabled(before.metadata.properties)) throw new GcDisabledError(formatIdentifier(identifier), 'remove orphan files of');
  const location = before.metadata.location;
  const listed = [...(await io.listRecursive(`${location}/data`)), ...(await io.listRecursive(`${location}/metadata`))];
  const after = await catalog.loadTable(identifier);
  const valid = new Set([...(await referencedFiles(io, before)), ...(await referencedFiles(io, after))]);
  const orphans = listed.filter((f) => f.modifiedAt.getTime() <= cutoff && !valid.has(normalize(f.location)));
  if (!options.dryRun) {
    for (const f of orphans) await io.delete(f.location);
  }
  const metadataDir = normalize(`${location}/metadata/`);
  return {
    dataFiles: orphans.filter((f) => !normalize(f.location).startsWith(metadataDir)),
    metadataFiles: orphans.filter((f) => normalize(f.location).startsWith(metadataDir)),
    bytes: orphans.reduce((n, f) => n + f.sizeBytes, 0),
    dryRun: options.dryRun ?? false,
  };
}

/** Every file the table's metadata references, normalized. */
async function referencedFiles(io: FileIO, table: LoadedTable): Promise<Set<string>> {
  const { metadata } = table;
  const out = new Set<string>([
    table.metadataLocation,
    `${metadata.location}/metadata/version-hint.text`,
    ...metadata.metadataLog.map((e) => e.metadataFile),
    ...statisticsPaths(metadata.statistics),
    ...statisticsPaths(metadata.partitionStatistics),
  ].map(normalize));
  const seen = new Set<string>();
  for (const snapshot of metadata.snapshots) {
    out.add(normalize(snapshot.manifestList));
    for (const manifest of await readSnapshotManifests(io, snapshot)) {
      out.add(normalize(manifest.manifestPath));
      if (seen.has(manifest.manifestPath)) continue;
      seen.add(manifest.manifestPath);
      for (const entry of await readManifestEntries(io, metadata, manifest)) out.add(normalize(entry.dataFile.filePath));
    }
  }
  return out;
}

function statisticsPaths(entries: readonly JsonValue[]): string[] {
  return entries.flatMap((e) => {
    const path = typeof e === 'object' && e !== null && !Array.isArray(e) ? e['statistics-path'] : undefined;
    return typeof path === 'string' ? [path] : [];
  });
}

/** One spelling per file: `file:` URIs as paths, `s3a://`/`s3n://` as `s3://` (the same objects). */
export function normalize(location: string): string {
  if (location.startsWith('file:')) return localPath(location);
  return location.replace(/^s3[an]:\/\//, 's3://');
}
