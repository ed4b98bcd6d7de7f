import { describe, expect, it } from 'vitest';
import { ManifestEntryStatus } from '../src/iceberg/spec/manifest.js';
import { currentSnapshot } from '../src/iceberg/spec/table-metadata.js';
import { fastAppend } from '../src/iceberg/transaction/fast-append.js';
import { rewriteFiles } from '../src/iceberg/transaction/rewrite-files.js';
import { listLiveDataFiles, mainAncestry, readManifestEntries, readSnapshotManifests } from '../src/iceberg/transaction/table-scan.js';
import { fakeDataFile, tradesSchema, useTradesTable } from './iceberg-helpers.js';

describe('manifest merging on append', () => {
  const table = useTradesTable(null);
  const { id } = table;

  it('keeps the manifest list under the default bound over 150 appends with every record intact', { timeout: 120_000 }, async () => {
    await table.catalog.createTable(id, { schema: tradesSchema, spec: { 'spec-id': 0, fields: [] } });
    let maxManifests = 0;
    for (let i = 0; i < 150; i++) {
      const { snapshot } = await fastAppend(table.catalog, id, [fakeDataFile(`/data/f${i}.parquet`, i + 1)]);
      maxManifests = Math.max(maxManifests, (await readSnapshotManifests(table.catalog.io, snapshot)).length);
    }
    expect(maxManifests).toBeLessThanOrEqual(100);
    const { metadata } = await table.catalog.loadTable(id);
    const snapshot = currentSnapshot(metadata);
    if (!snapshot) throw new Error('table has snapshots');
    const manifests = await readSnapshotManifests(table.catalog.io, snapshot);
    expect(manifests.length).toBeLessThan(100);
    const live = await listLiveDataFiles(table.catalog.io, metadata);
    expect(live).toHaveLength(150);
    expect(live.reduce((n, f) => n + f.dataFile.recordCount, 0n)).toBe(BigInt((150 * 151) / 2));
    expect(snapshot.summary['total-records']).toBe(String((150 * 151) / 2));
    expect(manifests.reduce((n, m) => n + m.addedRowsCount + m.existingRowsCount, 0n)).toBe(BigInt((150 * 151) / 2));
  });

  it('rewrites merged entries as EXISTING with their original snapshot ids and sequence numbers', async () => {
    await table.catalog.createTable(id, {
      schema: tradesSchema,
      spec: { 'spec-id': 0, fields: [] },
      properties: { 'commit.manifest.min-count-to-merge': '3' },
    });
    for (let i = 0; i < 3; i++) await fastAppend(table.catalog, id, [fakeDataFile(`/data/f${i}.parquet`, 1)]);
    const { metadata } = await table.catalog.loadTable(id);
    const snapshot = currentSnapshot(metadata);
    if (!snapshot) throw new Error('table has snapshots');
    const manifests = await readSnapshotManifests(table.catalog.io, snapshot);
    expect(manifests.map((m) => [m.addedFilesCount, m.existingFilesCount])).toEqual([
      [1, 0],
      [0, 2],
    ]);
    expect(manifests[1]?.minSequenceNumber).toBe(1n);
    expect(manifests[1]?.sequenceNumber).toBe(3n);
    const [first, second] = mainAncestry(metadata).reverse();
    const merged = await readManifestEntries(table.catalog.io, metadata, manifests[1]!);
    expect(merged.map((e) => [e.dataFile.filePath, e.status, e.snapshotId, e.sequenceNumber])).toEqual([
      ['/data/f1.parquet', ManifestEntryStatus.EXISTING, second?.snapshotId, 2n],
      ['/data/f0.parquet', ManifestEntryStatus.EXISTING, first?.snapshotId, 1n],
    ]);
  });

  it('keeps the DELETED entries of the snapshot doing the merge and drops those of earlier snapshots', async () => {
    await table.catalog.createTable(id, {
      schema: tradesSchema,
      spec: { 'spec-id': 0, fields: [] },
      properties: { 'commit.manifest.min-count-to-merge': '2' },
    });
    const files = [0, 1, 2].map((i) => fakeDataFile(`/data/f${i}.parquet`, 1));
    for (const f of files) await fastAppend(table.catalog, id, [f]);
    const start = currentSnapshot((await table.catalog.loadTable(id)).metadata)!.snapshotId;
    const first = await rewriteFiles(table.catalog, id, [files[0]!, files[1]!], [fakeDataFile('/data/c1.parquet', 2)], { startSnapshotId: start, specId: 0 });
    const entriesOf = async (snapshotId: bigint) => {
      const { metadata } = await table.catalog.loadTable(id);
      const snapshot = metadata.snapshots.find((s) => s.snapshotId === snapshotId)!;
      const out: [string, number, bigint | null][] = [];
      for (const m of await readSnapshotManifests(table.catalog.io, snapshot)) {
        for (const e of await readManifestEntries(table.catalog.io, metadata, m)) out.push([e.dataFile.filePath, e.status, e.snapshotId]);
      }
      return out.sort();
    };
    // The replace merged its filtered manifest, and kept its own DELETED entries in it.
    expect(await entriesOf(first.snapshot.snapshotId)).toEqual(
      expect.arrayContaining([
        ['/data/f0.parquet', ManifestEntryStatus.DELETED, first.snapshot.snapshotId],
        ['/data/f1.parquet', ManifestEntryStatus.DELETED, first.snapshot.snapshotId],
      ]),
    );
    // The next merge, by an append, drops them: they belong to an earlier snapshot.
    const next = await fastAppend(table.catalog, id, [fakeDataFile('/data/f3.parquet', 1)]);
    const after = await entriesOf(next.snapshot.snapshotId);
    expect(after.filter(([, status]) => status === ManifestEntryStatus.DELETED)).toEqual([]);
    expect(after.map(([path]) => path)).toEqual(['/data/c1.parquet', '/data/f2.parquet', '/data/f3.parquet']);
  });

  it('does not merge when the table disables it', async () => {
    await table.catalog.createTable(id, {
      schema: tradesSchema,
      spec: { 'spec-id': 0, fields: [] },
      properties: { 'commit.manifest.min-count-to-merge': '2', 'commit.manifest-merge.enabled': 'false' },
    });
    for (let i = 0; i < 4; i++) await fastAppend(table.catalog, id, [fakeDataFile(`/data/f${i}.parquet`, 1)]);
    const { metadata } = await table.catalog.loadTable(id);
    expect(await readSnapshotManifests(table.catalog.io, currentSnapshot(metadata)!)).toHaveLength(4);
  });
});
