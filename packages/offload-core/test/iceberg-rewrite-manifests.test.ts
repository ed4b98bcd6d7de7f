import { describe, expect, it } from 'vitest';
import { currentSnapshot } from '../src/iceberg/spec/table-metadata.js';
import { fastAppend } from '../src/iceberg/transaction/fast-append.js';
import { rewriteManifests } from '../src/iceberg/transaction/rewrite-manifests.js';
import { listLiveDataFiles } from '../src/iceberg/transaction/table-scan.js';
import { fakeDataFile, useTradesTable } from './iceberg-helpers.js';

describe('rewriting manifests', () => {
  // No merging on append: every append adds a manifest.
  const table = useTradesTable({ spec: { 'spec-id': 0, fields: [{ 'source-id': 2, 'field-id': 1000, name: 'symbol', transform: 'identity' }] }, properties: { 'commit.manifest-merge.enabled': 'false' } });
  const { id } = table;

  it('packs many small manifests into few, clustered by partition, with the same live files, snapshot ids and sequence numbers', async () => {
    for (let i = 0; i < 12; i++) await fastAppend(table.catalog, id, [fakeDataFile(`/data/f${i}.parquet`, i + 1, [i % 2 === 0 ? 'BTC' : 'ETH'])]);
    const before = await table.catalog.loadTable(id);
    const liveBefore = await listLiveDataFiles(table.catalog.io, before.metadata);
    const result = await rewriteManifests(table.catalog, id, { targetSizeBytes: 1 << 20 });
    expect(result).toMatchObject({ manifestsBefore: 12, manifestsAfter: 1 });
    const { metadata } = await table.catalog.loadTable(id);
    const head = currentSnapshot(metadata)!;
    expect(head.summary).toMatchObject({ operation: 'replace', 'manifests-replaced': '12', 'manifests-created': '1', 'total-data-files': '12' });
    const liveAfter = await listLiveDataFiles(table.catalog.io, metadata);
    const key = (f: (typeof liveAfter)[number]) => `${f.dataFile.filePath}|${f.snapshotId}|${f.sequenceNumber}`;
    expect(liveAfter.map(key).sort()).toEqual(liveBefore.map(key).sort());
    // Clustered: all BTC entries before all ETH entries.
    expect(liveAfter.map((f) => f.dataFile.partition[0])).toEqual([...Array(6).fill('BTC'), ...Array(6).fill('ETH')]);
    // Nothing left to rewrite: no new snapshot, no new metadata version.
    const settled = (await table.catalog.loadTable(id)).metadataLocation;
    expect(await rewriteManifests(table.catalog, id, { targetSizeBytes: 1 << 20 })).toMatchObject({ snapshotId: null, manifestsAfter: 1 });
    expect((await table.catalog.loadTable(id)).metadataLocation).toBe(settled);
  });
});
