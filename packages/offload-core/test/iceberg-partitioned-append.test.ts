import { createTempDir, type TempDir } from '@coldtier/test-support';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FilesystemCatalog } from '../src/iceberg/catalog/filesystem.js';
import { bindPartitionSpec, partitionPath, type PartitionSpec } from '../src/iceberg/spec/partition.js';
import { currentSchema, currentSnapshot } from '../src/iceberg/spec/table-metadata.js';
import type { IcebergSchema } from '../src/iceberg/spec/types.js';
import { valueFromBytes } from '../src/iceberg/spec/values.js';
import { fastAppend } from '../src/iceberg/transaction/fast-append.js';
import { listLiveDataFiles, readSnapshotManifests } from '../src/iceberg/transaction/table-scan.js';
import { fakeDataFile } from './iceberg-helpers.js';

const schema: IcebergSchema = {
  type: 'struct',
  'schema-id': 0,
  fields: [
    { id: 1, name: 'ts', required: true, type: 'timestamp' },
    { id: 2, name: 'symbol', required: false, type: 'string' },
    { id: 3, name: 'amount', required: false, type: 'decimal(18, 4)' },
    { id: 4, name: 'trade_id', required: false, type: 'long' },
  ],
};

const spec: PartitionSpec = {
  'spec-id': 0,
  fields: [
    { 'source-id': 1, 'field-id': 1000, name: 'ts_day', transform: 'day' },
    { 'source-id': 2, 'field-id': 1001, name: 'symbol_bucket', transform: 'bucket[8]' },
    { 'source-id': 3, 'field-id': 1002, name: 'amount_trunc', transform: 'truncate[100]' },
    { 'source-id': 4, 'field-id': 1003, name: 'trade_id', transform: 'identity' },
  ],
};

describe('appending to a partitioned table', () => {
  let dir: TempDir;
  beforeEach(async () => {
    dir = await createTempDir();
  });
  afterEach(() => dir.remove());

  it('round-trips partition tuples of every result type and summarises them in the manifest list', async () => {
    const catalog = new FilesystemCatalog({ warehouse: dir.path });
    const id = { namespace: ['cold'], name: 'trades' };
    const created = await catalog.createTable(id, { schema, spec });
    expect(created.metadata.lastPartitionId).toBe(1003);
    const bound = bindPartitionSpec(spec, currentSchema(created.metadata));
    expect(bound.map((b) => b.resultType)).toEqual(['date', 'int', 'decimal(18, 4)', 'long']);

    const files = [
      fakeDataFile('/data/a.parquet', 3, [20413, 5, -12300n, 7n]),
      fakeDataFile('/data/b.parquet', 4, [20411, null, 100n, 9_007_199_254_740_993n]),
    ];
    await fastAppend(catalog, id, files);
    const { metadata } = await catalog.loadTable(id);
    const snapshot = currentSnapshot(metadata);
    if (!snapshot) throw new Error('appended');
    expect(snapshot.summary['changed-partition-count']).toBe('2');

    const live = await listLiveDataFiles(catalog.io, metadata);
    expect(live.map((f) => f.dataFile.partition)).toEqual(files.map((f) => f.partition));
    expect(partitionPath(bound, files[0]!.partition)).toBe('ts_day=2025-11-21/symbol_bucket=5/amount_trunc=-1.2300/trade_id=7');

    const [manifest] = await readSnapshotManifests(catalog.io, snapshot);
    const summaries = manifest?.partitions ?? [];
    const bounds = summaries.map((s, i) => [
      s.containsNull,
      s.lowerBound && valueFromBytes(bound[i]!.resultType, s.lowerBound),
      s.upperBound && valueFromBytes(bound[i]!.resultType, s.upperBound),
    ]);
    expect(bounds).toEqual([
      [false, 20411, 20413],
      [true, 5, 5],
      [false, -12300n, 100n],
      [false, 7n, 9_007_199_254_740_993n],
    ]);
  });
});
