import { createTempDir, createTestDatabase, type TempDir, type TestDatabase, openTestPool } from '@coldtier/test-support';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommitConflictError, TableAlreadyExistsError } from '../src/iceberg/catalog/catalog.js';
import { SqlCatalog } from '../src/iceberg/catalog/sql.js';
import { LocalFileIO } from '../src/iceberg/io/local.js';
import { currentSnapshot } from '../src/iceberg/spec/table-metadata.js';
import { fastAppend } from '../src/iceberg/transaction/fast-append.js';
import { listLiveDataFiles } from '../src/iceberg/transaction/table-scan.js';
import { fakeDataFile, noSleep, tradesSchema } from './iceberg-helpers.js';

describe('SqlCatalog on PostgreSQL (Iceberg JDBC catalog tables)', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let dir: TempDir;
  let catalog: SqlCatalog;
  const id = { namespace: ['cold'], name: 'trades' };

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = openTestPool({ connectionString: database.url });
    dir = await createTempDir();
    catalog = new SqlCatalog({ name: 'coldtier', pool, io: new LocalFileIO(), warehouse: dir.path });
    await catalog.initialize();
    await catalog.initialize();
    await pool.query('CREATE TABLE watermarks (source text PRIMARY KEY, value text NOT NULL)');
    await pool.query(`INSERT INTO watermarks VALUES ('trades', 'w0')`);
  });
  afterAll(async () => {
    await pool.end();
    await database.drop();
    await dir.remove();
  });

  const pointer = async (): Promise<{ metadata_location: string; previous_metadata_location: string | null }> => {
    const { rows } = await pool.query(
      `SELECT metadata_location, previous_metadata_location FROM iceberg_tables WHERE catalog_name = 'coldtier' AND table_namespace = 'cold' AND table_name = 'trades'`,
    );
    return rows[0];
  };

  it('creates a table and namespace in the JDBC catalog layout', async () => {
    await catalog.createNamespace(['cold']);
    const created = await catalog.createTable(id, { schema: tradesSchema, spec: { 'spec-id': 0, fields: [] } });
    expect(created.metadataLocation).toMatch(new RegExp(`^${dir.path}/cold/trades/metadata/00000-[0-9a-f-]{36}\\.metadata\\.json$`));
    expect(await pointer()).toEqual({ metadata_location: created.metadataLocation, previous_metadata_location: null });
    expect(await catalog.listNamespaces()).toEqual([['cold']]);
    await expect(catalog.createTable(id, { schema: tradesSchema, spec: { 'spec-id': 0, fields: [] } })).rejects.toBeInstanceOf(
      TableAlreadyExistsError,
    );
  });

  it('appends by swapping the pointer and detects a stale metadata_location', async () => {
    const before = await catalog.loadTable(id);
    const { table } = await fastAppend(catalog, id, [fakeDataFile('/data/a.parquet', 5)]);
    expect(table.metadataLocation).toMatch(/\/00001-[0-9a-f-]{36}\.metadata\.json$/);
    expect(await pointer()).toEqual({ metadata_location: table.metadataLocation, previous_metadata_location: before.metadataLocation });

    // Another writer swaps the pointer between our load and our UPDATE.
    const io = new LocalFileIO();
    const racing = new SqlCatalog({ name: 'coldtier', pool, io, warehouse: dir.path });
    const stale = await racing.loadTable(id);
    await fastAppend(catalog, id, [fakeDataFile('/data/b.parquet', 5)]);
    const racingLoad = racing.loadTable.bind(racing);
    racing.loadTable = async () => stale;
    await expect(racing.commitTable(id, [], [{ action: 'set-properties', updates: { x: 'y' } }])).rejects.toBeInstanceOf(
      CommitConflictError,
    );
    racing.loadTable = racingLoad;
    const latest = await catalog.loadTable(id);
    expect(latest.metadata.properties['x']).toBeUndefined();
    expect(currentSnapshot(latest.metadata)?.summary['total-records']).toBe('10');
    // The losing writer's metadata file was removed.
    const metadataFiles = (await io.list(`${dir.path}/cold/trades/metadata`)).filter((p) => p.endsWith('.metadata.json'));
    expect(metadataFiles).toHaveLength(3);
  });

  it('advances the watermark in the same transaction as the pointer swap', async () => {
    const { table } = await fastAppend(catalog, id, [fakeDataFile('/data/c.parquet', 5)], {
      snapshotProperties: { 'coldtier.watermark': 'w1' },
      commit: { inTransaction: (client) => client.query(`UPDATE watermarks SET value = 'w1' WHERE source = 'trades'`).then(() => undefined) },
    });
    expect((await pointer()).metadata_location).toBe(table.metadataLocation);
    expect((await pool.query('SELECT value FROM watermarks')).rows[0].value).toBe('w1');
  });

  it('rolls the pointer swap back when the transaction hook throws', async () => {
    const before = await pointer();
    const hookError = new Error('watermark advance failed');
    await expect(
      fastAppend(catalog, id, [fakeDataFile('/data/d.parquet', 5)], {
        sleep: noSleep,
        commit: {
          inTransaction: async (client) => {
            await client.query(`UPDATE watermarks SET value = 'w2' WHERE source = 'trades'`);
            throw hookError;
          },
        },
      }),
    ).rejects.toBe(hookError);
    expect(await pointer()).toEqual(before);
    expect((await pool.query('SELECT value FROM watermarks')).rows[0].value).toBe('w1');
    const { metadata } = await catalog.loadTable(id);
    expect((await listLiveDataFiles(catalog.io, metadata)).map((f) => f.dataFile.filePath)).not.toContain('/data/d.parquet');
  });
});
