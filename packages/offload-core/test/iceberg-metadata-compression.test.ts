import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { createTempDir, type TempDir } from '@coldtier/test-support';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FilesystemCatalog } from '../src/iceberg/catalog/filesystem.js';
import { UNPARTITIONED_SPEC } from '../src/iceberg/spec/partition.js';
import { currentSnapshot } from '../src/iceberg/spec/table-metadata.js';
import { fastAppend } from '../src/iceberg/transaction/fast-append.js';
import { fakeDataFile, tradesSchema } from './iceberg-helpers.js';

/** The metadata codec rules without Spark (spark-gzip-metadata.test.ts has Spark write the files). */
describe('metadata compression in the filesystem catalog', () => {
  const id = { namespace: ['cold'], name: 'trades' };
  let dir: TempDir;
  let catalog: FilesystemCatalog;
  let metadataDir: string;

  beforeEach(async () => {
    dir = await createTempDir();
    catalog = new FilesystemCatalog({ warehouse: dir.path });
    metadataDir = `${dir.path}/cold/trades/metadata`;
  });
  afterEach(() => dir.remove());

  const jsonFiles = async (): Promise<string[]> => (await readdir(metadataDir)).filter((n) => n.includes('.json')).sort();

  it('writes gzipped v<N>.gz.metadata.json when the table asks for gzip, and reads it back', async () => {
    await catalog.createTable(id, { schema: tradesSchema, spec: UNPARTITIONED_SPEC, properties: { 'write.metadata.compression-codec': 'GZIP' } });
    await fastAppend(catalog, id, [fakeDataFile(`${dir.path}/a.parquet`, 3)]);
    expect(await jsonFiles()).toEqual(['v1.gz.metadata.json', 'v2.gz.metadata.json']);
    const bytes = await readFile(`${metadataDir}/v2.gz.metadata.json`);
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    expect(currentSnapshot((await catalog.loadTable(id)).metadata)?.summary['total-records']).toBe('3');
  });

  it('reads the legacy v<N>.metadata.json.gz and commits the next version after it', async () => {
    await catalog.createTable(id, { schema: tradesSchema, spec: UNPARTITIONED_SPEC });
    await fastAppend(catalog, id, [fakeDataFile(`${dir.path}/a.parquet`, 3)]);
    const v2 = `${metadataDir}/v2.metadata.json`;
    await writeFile(`${v2}.gz`, gzipSync(await readFile(v2)));
    await rename(v2, `${metadataDir}/v2.tmp`);
    const loaded = await catalog.loadTable(id);
    expect(loaded.metadataLocation).toBe(`${v2}.gz`);
    await fastAppend(catalog, id, [fakeDataFile(`${dir.path}/b.parquet`, 2)]);
    const table = await catalog.loadTable(id);
    expect(table.metadataLocation).toBe(`${metadataDir}/v3.metadata.json`);
    expect(currentSnapshot(table.metadata)?.summary['total-records']).toBe('5');
  });

  it('finds the newest version whatever its name, even past a stale hint', async () => {
    await catalog.createTable(id, { schema: tradesSchema, spec: UNPARTITIONED_SPEC });
    await fastAppend(catalog, id, [fakeDataFile(`${dir.path}/a.parquet`, 3)]);
    // Another writer (Spark with gzip) wrote v3 under the gzip name and left the hint at 2.
    const v2 = await readFile(`${metadataDir}/v2.metadata.json`);
    await writeFile(`${metadataDir}/v3.gz.metadata.json`, gzipSync(v2));
    expect((await catalog.loadTable(id)).metadataLocation).toBe(`${metadataDir}/v3.gz.metadata.json`);
    await fastAppend(catalog, id, [fakeDataFile(`${dir.path}/b.parquet`, 2)]);
    expect(await jsonFiles()).toEqual(['v1.metadata.json', 'v2.metadata.json', 'v3.gz.metadata.json', 'v4.metadata.json']);
  });

  it('refuses a codec Iceberg does not know, naming the property', async () => {
    await expect(
      catalog.createTable(id, { schema: tradesSchema, spec: UNPARTITIONED_SPEC, properties: { 'write.metadata.compression-codec': 'zstd' } }),
    ).rejects.toThrow(/write\.metadata\.compression-codec=zstd is not a metadata codec/);
  });
});
