import { describe, expect, it } from 'vitest';
import { CommitConflictError, CommitStateUnknownError, type Catalog } from '../src/iceberg/catalog/catalog.js';
import type { FilesystemCatalog } from '../src/iceberg/catalog/filesystem.js';
import { currentSnapshot } from '../src/iceberg/spec/table-metadata.js';
import { fastAppend } from '../src/iceberg/transaction/fast-append.js';
import { listLiveDataFiles, mainAncestry, readSnapshotManifests } from '../src/iceberg/transaction/table-scan.js';
import { fakeDataFile, interceptCatalog, noSleep, useTradesTable } from './iceberg-helpers.js';

/**
 * The filesystem catalog, whose next commit lands and then fails the way a
 * REST catalog can: its answer lost (unknown outcome) or a re-sent request
 * conflicting with its own success (409).
 */
function landsThenFails(inner: FilesystemCatalog, failure: (table: string) => Error, land = true): Catalog & { commits: number } {
  const wrapped = Object.assign(
    interceptCatalog(inner, {
      async commitTable(...args) {
        wrapped.commits++;
        if (wrapped.commits === 1) {
          if (land) await inner.commitTable(...args);
          throw failure('cold.trades');
        }
        return inner.commitTable(...args);
      },
    }),
    { commits: 0 },
  );
  return wrapped;
}

describe('fast append when the commit outcome is unclear', () => {
  const table = useTradesTable();
  const { id } = table;

  /** Every manifest list and manifest the live snapshots reference still exists. */
  async function expectNoDanglingReference(): Promise<void> {
    const { metadata } = await table.catalog.loadTable(id);
    for (const snapshot of mainAncestry(metadata)) {
      expect(await table.catalog.io.exists(snapshot.manifestList)).toBe(true);
      for (const m of await readSnapshotManifests(table.catalog.io, snapshot)) expect(await table.catalog.io.exists(m.manifestPath)).toBe(true);
    }
  }

  it('a 409 caused by its own landed commit ends in success, one snapshot, and deletes nothing the snapshot references', async () => {
    const flaky = landsThenFails(table.catalog, (t) => new CommitConflictError(t, 'HTTP 409 CommitFailedException'));
    const result = await fastAppend(flaky, id, [fakeDataFile('/data/a.parquet', 7)], { sleep: noSleep });
    expect(flaky.commits).toBe(1);
    const { metadata } = await table.catalog.loadTable(id);
    expect(metadata.snapshots).toHaveLength(1);
    expect(currentSnapshot(metadata)?.snapshotId).toBe(result.snapshot.snapshotId);
    expect(currentSnapshot(metadata)?.summary['total-records']).toBe('7');
    await expectNoDanglingReference();
  });

  it('an unknown outcome that landed is found by reloading: success, no second snapshot, files intact', async () => {
    const flaky = landsThenFails(table.catalog, (t) => new CommitStateUnknownError(t, { cause: new Error('HTTP 502') }));
    const result = await fastAppend(flaky, id, [fakeDataFile('/data/a.parquet', 3)], { sleep: noSleep });
    const { metadata } = await table.catalog.loadTable(id);
    expect(metadata.snapshots.map((s) => s.snapshotId)).toEqual([result.snapshot.snapshotId]);
    await expectNoDanglingReference();
    expect((await listLiveDataFiles(table.catalog.io, metadata)).map((f) => f.dataFile.filePath)).toEqual(['/data/a.parquet']);
  });

  it('an unknown outcome that did not land is rethrown and its files are kept (orphans, not dangling references)', async () => {
    const flaky = landsThenFails(table.catalog, (t) => new CommitStateUnknownError(t, { cause: new Error('socket hang up') }), false);
    await expect(fastAppend(flaky, id, [fakeDataFile('/data/a.parquet', 3)], { sleep: noSleep })).rejects.toBeInstanceOf(CommitStateUnknownError);
    const metadataFiles = await table.catalog.io.list(`${table.catalog.tableLocation(id)}/metadata`);
    expect(metadataFiles.filter((p) => p.endsWith('.avro')).length).toBeGreaterThanOrEqual(2);
    expect((await table.catalog.loadTable(id)).metadata.snapshots).toHaveLength(0);
  });

  it('a 409 from another writer deletes the attempt files once the reload shows its snapshot absent, and retries', async () => {
    const flaky = landsThenFails(table.catalog, (t) => new CommitConflictError(t, 'HTTP 409'), false);
    const result = await fastAppend(flaky, id, [fakeDataFile('/data/a.parquet', 2)], { sleep: noSleep });
    expect(result.attempts).toBe(2);
    const lists = (await table.catalog.io.list(`${table.catalog.tableLocation(id)}/metadata`)).filter((p) => /\/snap-/.test(p));
    expect(lists).toEqual([currentSnapshot((await table.catalog.loadTable(id)).metadata)?.manifestList]);
    await expectNoDanglingReference();
  });
});
