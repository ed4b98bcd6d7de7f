import { stat } from 'node:fs/promises';
import { relative } from 'node:path';
import { createTempDir, startEmbeddedClickHouse, type EmbeddedClickHouse, type TempDir } from '@coldtier/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FilesystemCatalog } from '../src/iceberg/catalog/filesystem.js';
import type { DataFile } from '../src/iceberg/spec/data-file.js';
import { currentSnapshot } from '../src/iceberg/spec/table-metadata.js';
import type { IcebergSchema } from '../src/iceberg/spec/types.js';
import { fastAppend } from '../src/iceberg/transaction/fast-append.js';
import { latestSummaryValue, listLiveDataFiles, readSnapshotManifests } from '../src/iceberg/transaction/table-scan.js';

const schema: IcebergSchema = {
  type: 'struct',
  'schema-id': 0,
  fields: [
    { id: 1, name: 'trade_id', required: false, type: 'long' },
    { id: 2, name: 'symbol', required: false, type: 'string' },
    { id: 3, name: 'price', required: false, type: 'double' },
  ],
};

// ClickHouse writes Parquet without Iceberg field ids. ClickHouse's own
// Iceberg reader falls back to column names, but Spark needs the spec's
// name mapping for such files, so the table declares it.
const nameMapping = JSON.stringify(schema.fields.map((f) => ({ 'field-id': f.id, names: [f.name] })));

describe('a fast append on the filesystem catalog, read back by ClickHouse', () => {
  let ch: EmbeddedClickHouse;
  let dir: TempDir;

  beforeAll(async () => {
    ch = await startEmbeddedClickHouse();
    dir = await createTempDir();
  });
  afterAll(async () => {
    await ch.close();
    await dir.remove();
  });

  async function parquetFile(path: string, from: number, count: number): Promise<DataFile> {
    await ch.client.command({
      query: `INSERT INTO FUNCTION file('${path}', 'Parquet', 'trade_id Nullable(Int64), symbol Nullable(String), price Nullable(Float64)')
              SELECT number, concat('SYM', toString(number % 3)), number * 1.5 FROM numbers(${from}, ${count})`,
    });
    const empty = new Map();
    return {
      filePath: path,
      fileFormat: 'PARQUET',
      partition: [],
      recordCount: BigInt(count),
      fileSizeInBytes: BigInt((await stat(path)).size),
      columnSizes: empty,
      valueCounts: empty,
      nullValueCounts: empty,
      nanValueCounts: empty,
      lowerBounds: empty,
      upperBounds: empty,
      splitOffsets: [],
    };
  }

  it('commits snapshots ClickHouse reads with the right counts and sums', async () => {
    const catalog = new FilesystemCatalog({ warehouse: dir.path });
    const id = { namespace: ['cold'], name: 'trades' };
    await catalog.createNamespace(id.namespace);
    await catalog.createTable(id, {
      schema,
      spec: { 'spec-id': 0, fields: [] },
      // The third append merges the first two manifests, so ClickHouse also reads EXISTING entries.
      properties: { 'schema.name-mapping.default': nameMapping, 'commit.manifest.min-count-to-merge': '3' },
    });
    const location = catalog.tableLocation(id);
    const first = await fastAppend(catalog, id, [await parquetFile(`${location}/data/a.parquet`, 0, 100)], {
      snapshotProperties: { 'coldtier.watermark': 'w1' },
    });
    const second = await fastAppend(catalog, id, [await parquetFile(`${location}/data/b.parquet`, 100, 50)], {
      snapshotProperties: { 'coldtier.watermark': 'w2' },
    });
    const third = await fastAppend(catalog, id, [await parquetFile(`${location}/data/c.parquet`, 150, 25)], {
      snapshotProperties: { 'coldtier.watermark': 'w3' },
    });

    expect(first.table.metadataLocation).toBe(`${location}/metadata/v2.metadata.json`);
    expect(second.table.metadataLocation).toBe(`${location}/metadata/v3.metadata.json`);
    const table = await catalog.loadTable(id);
    const snapshot = currentSnapshot(table.metadata);
    expect(snapshot?.parentSnapshotId).toBe(second.snapshot.snapshotId);
    expect(snapshot?.summary).toMatchObject({ 'total-records': '175', 'total-data-files': '3', 'added-records': '25' });
    expect(snapshot?.manifestList).toMatch(new RegExp(`/metadata/snap-${third.snapshot.snapshotId}-1-[0-9a-f-]{36}\\.avro$`));
    expect(latestSummaryValue(table.metadata, 'coldtier.watermark')).toBe('w3');
    expect((await readSnapshotManifests(catalog.io, third.snapshot)).map((m) => [m.addedFilesCount, m.existingFilesCount])).toEqual([
      [1, 0],
      [0, 2],
    ]);
    expect((await listLiveDataFiles(catalog.io, table.metadata)).map((f) => f.dataFile.filePath).sort()).toEqual([
      `${location}/data/a.parquet`,
      `${location}/data/b.parquet`,
      `${location}/data/c.parquet`,
    ]);

    // A file in data/ that no snapshot references must stay invisible.
    await parquetFile(`${location}/data/orphan.parquet`, 1000, 1000);
    // chdb confines table functions to its user_files_path, the working directory.
    const cwd = process.cwd();
    process.chdir(dir.path);
    const result = await ch.client
      .query({
        query: `SELECT count() AS n, sum(trade_id) AS ids, sum(price) AS prices, uniqExact(symbol) AS symbols FROM icebergLocal('${relative(dir.path, location)}')`,
        format: 'JSONEachRow',
      })
      .finally(() => process.chdir(cwd));
    const [row] = await result.json<{ n: string; ids: string; prices: number; symbols: string }>();
    expect(Number(row?.n)).toBe(175);
    expect(Number(row?.ids)).toBe((174 * 175) / 2);
    expect(row?.prices).toBeCloseTo(((174 * 175) / 2) * 1.5);
    expect(Number(row?.symbols)).toBe(3);
  });
});
