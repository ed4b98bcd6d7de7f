import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock } from '../../clock.js';
import type { Clock } from '../../clock.js';
import type { Catalog, TableIdentifier } from '../../iceberg/catalog/catalog.js';
import { localPath } from '../../iceberg/io/local.js';
import type { FileIO } from '../../iceberg/io/file-io.js';
import type { TableMetadata } from '../../iceberg/spec/table-metadata.js';
import { readManifestEntries, readSnapshotManifests } from '../../iceberg/transaction/table-scan.js';

/** A file under a table's `data/` that no snapshot references. */
export interface OrphanDataFile {
  /** Local path. */
  readonly location: string;
  readonly sizeBytes: number;
  readonly modifiedAt: Date;
}

export interface OrphanScanOptions {
  /**
   * Only files last modified at least this long ago count: a run writing
   * right now has files no snapshot references yet. Keep it well above the
   * longest run (`timeoutSeconds`). Default 3 days, as Iceberg's
   * `deleteOrphanFiles`.
   */
  readonly olderThanMs?: number;
  readonly clock?: Clock;
}

const DEFAULT_GRACE_MS = 3 * 24 * 60 * 60 * 1000;

/**
 * The data files of runs that never committed (crashed, refused, aborted):
 * files under the table's `data/` directory that no snapshot in the table's
 * metadata references, old enough to rule out a run in progress. Local
 * storage only.
 */
export async function findOrphanDataFiles(catalog: Catalog, identifier: TableIdentifier, options: OrphanScanOptions = {}): Promise<OrphanDataFile[]> {
  const cutoff = (options.clock ?? systemClock).now().getTime() - (options.olderThanMs ?? DEFAULT_GRACE_MS);
  const { metadata: before } = await catalog.loadTable(identifier);
  const files = await listFiles(join(localPath(before.location), 'data'));
  // Read again after listing: a file committed meanwhile is then referenced.
  const { metadata } = await catalog.loadTable(identifier);
  const referenced = await referencedDataFiles(catalog.io, metadata);
  return files.filter((f) => !referenced.has(f.location) && f.modifiedAt.getTime() <= cutoff);
}

/** Deletes what {@link findOrphanDataFiles} finds; returns the files deleted. */
export async function cleanOrphanDataFiles(catalog: Catalog, identifier: TableIdentifier, options: OrphanScanOptions = {}): Promise<OrphanDataFile[]> {
  const orphans = await findOrphanDataFiles(catalog, identifier, options);
  for (const orphan of orphans) await catalog.io.delete(orphan.location);
  return orphans;
}

/** Local paths of every data file any snapshot of the table references, whatever the entry status. */
async function referencedDataFiles(io: FileIO, metadata: TableMetadata): Promise<Set<string>> {
  const out = new Set<string>();
  const seen = new Set<string>();
  for (const snapshot of metadata.snapshots) {
    for (const manifest of await readSnapshotManifests(io, snapshot)) {
      if (seen.has(manifest.manifestPath)) continue;
      seen.add(manifest.manifestPath);
      for (const entry of await readManifestEntries(io, metadata, manifest)) out.add(localPath(entry.dataFile.filePath));
    }
  }
  return out;
}

async function listFiles(dir: string): Promise<OrphanDataFile[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const out: OrphanDataFile[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const location = join(entry.parentPath, entry.name);
    const info = await stat(location);
    out.push({ location, sizeBytes: info.size, modifiedAt: info.mtime });
  }
  return out.sort((a, b) => (a.location < b.location ? -1 : 1));
}
