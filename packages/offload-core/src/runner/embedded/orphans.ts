import type { Clock } from '../../clock.js';
import type { Catalog, TableIdentifier } from '../../iceberg/catalog/catalog.js';
import { localPath } from '../../iceberg/io/local.js';
import { cleanOrphanFiles } from '../../iceberg/maintenance/orphans.js';

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

/**
 * The data files of runs that never committed (crashed, refused, aborted):
 * files under the table's `data/` directory that no snapshot in the table's
 * metadata references, old enough to rule out a run in progress. For
 * `metadata/` too, see `cleanOrphanFiles`.
 */
export async function findOrphanDataFiles(catalog: Catalog, identifier: TableIdentifier, options: OrphanScanOptions = {}): Promise<OrphanDataFile[]> {
  const report = await cleanOrphanFiles(catalog, identifier, { ...options, dryRun: true });
  return report.dataFiles.map((f) => ({ location: localPath(f.location), sizeBytes: f.sizeBytes, modifiedAt: f.modifiedAt }));
}

/** Deletes what {@link findOrphanDataFiles} finds; returns the files deleted. */
export async function cleanOrphanDataFiles(catalog: Catalog, identifier: TableIdentifier, options: OrphanScanOptions = {}): Promise<OrphanDataFile[]> {
  const orphans = await findOrphanDataFiles(catalog, identifier, options);
  for (const orphan of orphans) await catalog.io.delete(orphan.location);
  return orphans;
}
