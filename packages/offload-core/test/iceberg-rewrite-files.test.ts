import { describe, expect, it } from 'vitest';
import type { ManifestFile } from '../src/iceberg/spec/manifest-list.js';
import { bindPartitionSpec } from '../src/iceberg/spec/partition.js';
import { currentSnapshot } from '../src/iceberg/spec/table-metadata.js';
import { valueToBytes } from '../src/iceberg/spec/values.js';
import { expireSnapshots } from '../src/iceberg/transaction/expire-snapshots.js';
import { fastAppend } from '../src/iceberg/transaction/fast-append.js';
import { mayContain, rewriteFiles, RewriteValidationError } from '../src/iceberg/transaction/rewrite-files.js';
import { listLiveDataFiles, readSnapshotManifests } from '../src/iceberg/transaction/table-scan.js';
import { fakeDataFile, noSleep, tradesSchema, useTradesTable } from './iceberg-helpers.js';

const spec = { 'spec-id': 0, fields: [{ 'source-id': 2, 'field-id': 1000, name: 'symbol', transform: 'identity' }] };

describe('a replace snapshot (rewriteFiles)', () => {
  const table = useTradesTable({ spec, properties: { 'commit.manifest-merge.enabled': 'false' } });
  const { id } = table;

  it('carries manifests without a replaced file over untouched and marks the replaced entries DELETED', async () => {
    const btc = [fakeDataFile('/data/b1.parquet', 1, ['BTC']), fakeDataFile('/data/b2.parquet', 2, ['BTC'])];
    for (const f of btc) await fastAppend(table.catalog, id, [f]);
    await fastAppend(table.catalog, id, [fakeDataFile('/data/e1.parquet', 5, ['ETH'])]);
    const start = currentSnapshot((await table.catalog.loadTable(id)).metadata)!;
    const ethManifest = (await readSnapshotManifests(table.catalog.io, start)).find((m) => m.addedRowsCount === 5n)!;

    const { snapshot } = await rewriteFiles(table.catalog, id, btc, [fakeDataFile('/data/b.parquet', 3, ['BTC'])], { startSnapshotId: start.snapshotId, specId: 0 });
    const manifests = await readSnapshotManifests(table.catalog.io, snapshot);
    // The ETH manifest is carried over untouched; the two BTC ones are rewritten with DELETED entries.
    expect(manifests.map((m) => m.manifestPath)).toContain(ethManifest.manifestPath);
    expect(manifests.reduce((n, m) => n + m.deletedFilesCount, 0)).toBe(2);
    const { metadata } = await table.catalog.loadTable(id);
    expect((await listLiveDataFiles(table.catalog.io, metadata)).map((f) => f.dataFile.filePath).sort()).toEqual(['/data/b.parquet', '/data/e1.parquet']);
    expect(snapshot.summary).toMatchObject({ operation: 'replace', 'deleted-data-files': '2', 'added-data-files': '1', 'total-records': '8' });
  });

  it('fails, unretried, when the start snapshot was expired', async () => {
    const a = fakeDataFile('/data/a.parquet', 1, ['BTC']);
    await fastAppend(table.catalog, id, [a]);
    const start = currentSnapshot((await table.catalog.loadTable(id)).metadata)!.snapshotId;
    await fastAppend(table.catalog, id, [fakeDataFile('/data/c.parquet', 1, ['BTC'])]);
    await expireSnapshots(table.catalog, id, { olderThanMs: Date.now() + 60_000, retainLast: 1 });
    const error = await rewriteFiles(table.catalog, id, [a], [fakeDataFile('/data/z.parquet', 1, ['BTC'])], { startSnapshotId: start, specId: 0, sleep: noSleep }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RewriteValidationError);
    expect((error as Error).message).toMatch(/start snapshot .* no longer exists/);
  });

  it('judges partition summaries by value for numbers, by unsigned bytes for strings, and admits when unsure', () => {
    const fields = bindPartitionSpec(spec, tradesSchema);
    const manifest = (lower: string | null, upper: string | null, containsNull = false): ManifestFile => ({
      manifestPath: 'm',
      manifestLength: 1n,
      partitionSpecId: 0,
      content: 0,
      sequenceNumber: 1n,
      minSequenceNumber: 1n,
      addedSnapshotId: 1n,
      addedFilesCount: 1,
      existingFilesCount: 0,
      deletedFilesCount: 0,
      addedRowsCount: 1n,
      existingRowsCount: 0n,
      deletedRowsCount: 0n,
      partitions: [
        { containsNull, containsNan: null, lowerBound: lower === null ? null : valueToBytes('string', lower), upperBound: upper === null ? null : valueToBytes('string', upper) },
      ],
    });
    expect(mayContain(manifest('BTC', 'ETH'), fields, ['DOGE'])).toBe(true);
    expect(mayContain(manifest('BTC', 'ETH'), fields, ['XRP'])).toBe(false);
    expect(mayContain(manifest('BTC', 'ETH'), fields, ['ADA'])).toBe(false);
    // 'É' is above every ASCII letter in UTF-8.
    expect(mayContain(manifest('A', 'Z'), fields, ['É'])).toBe(false);
    expect(mayContain(manifest('BTC', 'ETH'), fields, [null])).toBe(false);
    expect(mayContain(manifest(null, null, true), fields, [null])).toBe(true);
    expect(mayContain(manifest(null, null, true), fields, ['BTC'])).toBe(false);
    expect(mayContain({ ...manifest('a', 'b'), partitions: null }, fields, ['zzz'])).toBe(true);
  });
});
