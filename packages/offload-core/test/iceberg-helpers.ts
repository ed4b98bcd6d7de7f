import { createTempDir, type TempDir } from '@coldtier/test-support';
import { afterEach, beforeEach } from 'vitest';
import type { Catalog, CreateTableRequest, TableIdentifier } from '../src/iceberg/catalog/catalog.js';
import { FilesystemCatalog } from '../src/iceberg/catalog/filesystem.js';
import type { DataFile } from '../src/iceberg/spec/data-file.js';
import type { IcebergSchema } from '../src/iceberg/spec/types.js';

export const tradesSchema: IcebergSchema = {
  type: 'struct',
  'schema-id': 0,
  fields: [
    { id: 1, name: 'trade_id', required: false, type: 'long' },
    { id: 2, name: 'symbol', required: false, type: 'string' },
    { id: 3, name: 'price', required: false, type: 'double' },
  ],
};

/** A data-file descriptor for metadata-only tests (no Parquet file behind it). */
export function fakeDataFile(path: string, records: number, partition: DataFile['partition'] = []): DataFile {
  return {
    filePath: path,
    fileFormat: 'PARQUET',
    partition,
    recordCount: BigInt(records),
    fileSizeInBytes: BigInt(records * 10),
    columnSizes: new Map([[1, 8n]]),
    valueCounts: new Map([[1, BigInt(records)]]),
    nullValueCounts: new Map([[1, 0n]]),
    nanValueCounts: new Map(),
    lowerBounds: new Map(),
    upperBounds: new Map(),
    splitOffsets: [4n],
  };
}

export const noSleep = (): Promise<void> => Promise.resolve();

/** A filesystem catalog in a temp dir of its own per test (see {@link useTradesTable}). */
export interface TradesTableFixture {
  readonly id: TableIdentifier;
  readonly dir: TempDir;
  readonly catalog: FilesystemCatalog;
}

/**
 * Registers, in the calling `describe`, a fresh catalog per test with
 * `cold.trades` created as `create` says (unpartitioned by default; `null`:
 * the test creates it), and removes it after the test.
 */
export function useTradesTable(create: Omit<CreateTableRequest, 'schema'> | null = { spec: { 'spec-id': 0, fields: [] } }): TradesTableFixture {
  // dir and catalog are set before each test, the only place they are read.
  const fixture = { id: { namespace: ['cold'], name: 'trades' } } as unknown as { id: TableIdentifier; dir: TempDir; catalog: FilesystemCatalog };
  beforeEach(async () => {
    fixture.dir = await createTempDir();
    fixture.catalog = new FilesystemCatalog({ warehouse: fixture.dir.path });
    if (create) await fixture.catalog.createTable(fixture.id, { schema: tradesSchema, ...create });
  });
  afterEach(() => fixture.dir.remove());
  return fixture;
}

/**
 * `catalog` with its storage or its commits replaced (to record reads, or to
 * race or fail a commit); every other call goes to `catalog` itself.
 */
export function interceptCatalog(catalog: Catalog, overrides: Partial<Pick<Catalog, 'io' | 'commitTable'>>): Catalog {
  return {
    io: overrides.io ?? catalog.io,
    listNamespaces: () => catalog.listNamespaces(),
    createNamespace: (namespace, properties) => catalog.createNamespace(namespace, properties),
    tableExists: (id) => catalog.tableExists(id),
    loadTable: (id) => catalog.loadTable(id),
    createTable: (id, request) => catalog.createTable(id, request),
    commitTable: overrides.commitTable ?? ((...args) => catalog.commitTable(...args)),
  };
}
