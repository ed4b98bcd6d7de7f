import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir, type TempDir } from '@coldtier/test-support';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FilesystemCatalog } from '../src/iceberg/catalog/filesystem.js';
import { LocalFileIO } from '../src/iceberg/io/local.js';
import { cleanOrphanFiles, normalize } from '../src/iceberg/maintenance/orphans.js';
import { fastAppend } from '../src/iceberg/transaction/fast-append.js';
import { listLiveDataFiles, readSnapshotManifests } from '../src/iceberg/transaction/table-scan.js';
import { fakeDataFile, interceptCatalog, tradesSchema } from './iceberg-helpers.js';

const DAYS_AGO_4 = new Date(Date.now() - 4 * 24 * 3600 * 1000);

describe('orphan cleanup over data/ and metadata/', () => {
  let dir: TempDir;
  let catalog: FilesystemCatalog;
  let location: string;
  const id = { namespace: ['cold'], name: 'trades' };

  beforeEach(async () => {
    dir = await createTempDir();
    catalog = new FilesystemCatalog({ warehouse: dir.path });
    location = (await catalog.createTable(id, { schema: tradesSchema, spec: { 'spec-id': 0, fields: [] } })).metadata.location;
    await mkdir(join(location, 'data'));
  });
  afterEach(() => dir.remove());

  /** Appends a real (dummy) data file, like a committed offload. */
  async function append(n: number): Promise<string> {
    const path = join(location, 'data', `run${n}.parquet`);
    await writeFile(path, 'x');
    await fastAppend(catalog, id, [fakeDataFile(path, 1)]);
    return path;
  }

  /** Files a run killed before its commit left: a data file, a manifest, a manifest list, a metadata version that never became current. */
  async function killedRunLeftovers(): Promise<string[]> {
    const files = [
      join(location, 'data', 'killed-00000.parquet'),
      join(location, 'metadata', 'dead-m0.avro'),
      join(location, 'metadata', 'snap-1-1-dead.avro'),
      join(location, 'metadata', `.${'0'.repeat(8)}.tmp`),
    ];
    for (const f of files) {
      await writeFile(f, 'x');
      await utimes(f, DAYS_AGO_4, DAYS_AGO_4);
    }
    return files;
  }

  it('finds and removes old unreferenced data and metadata files, keeping every file the table references', async () => {
    const committed = [await append(1), await append(2)];
    const leftovers = await killedRunLeftovers();
    // Everything the table references is old too: only references protect it.
    for (const f of await new LocalFileIO().listRecursive(location)) await utimes(f.location, DAYS_AGO_4, DAYS_AGO_4);

    const dry = await cleanOrphanFiles(catalog, id, { dryRun: true });
    expect([...dry.dataFiles, ...dry.metadataFiles].map((f) => f.location).sort()).toEqual([...leftovers].sort());
    expect(dry.dataFiles.map((f) => f.location)).toEqual([leftovers[0]]);
    for (const f of leftovers) expect(await catalog.io.exists(f)).toBe(true);

    const report = await cleanOrphanFiles(catalog, id);
    expect(report.bytes).toBe(4);
    for (const f of leftovers) expect(await catalog.io.exists(f)).toBe(false);
    const { metadata } = await catalog.loadTable(id);
    expect((await listLiveDataFiles(catalog.io, metadata)).map((f) => f.dataFile.filePath)).toEqual(committed.reverse());
    for (const f of committed) expect(await catalog.io.exists(f)).toBe(true);
    expect(await cleanOrphanFiles(catalog, id)).toMatchObject({ dataFiles: [], metadataFiles: [] });
  });

  it('never removes the files of a commit in flight: cleanup racing the commit leaves them, and the commit lands', async () => {
    await append(1);
    const leftovers = await killedRunLeftovers();
    const inFlight = join(location, 'data', 'in-flight.parquet');
    await writeFile(inFlight, 'x');
    let cleaned: Awaited<ReturnType<typeof cleanOrphanFiles>> | undefined;
    // Cleanup runs after the append wrote its data file, manifest and manifest list, before it commits.
    const racing = interceptCatalog(catalog, {
      commitTable: async (...args) => {
        cleaned = await cleanOrphanFiles(catalog, id);
        return catalog.commitTable(...args);
      },
    });
    const { snapshot } = await fastAppend(racing, id, [fakeDataFile(inFlight, 1)]);
    expect(cleaned?.dataFiles.map((f) => f.location)).toEqual([leftovers[0]]);
    expect(await catalog.io.exists(inFlight)).toBe(true);
    expect(await catalog.io.exists(snapshot.manifestList)).toBe(true);
    for (const m of await readSnapshotManifests(catalog.io, snapshot)) expect(await catalog.io.exists(m.manifestPath)).toBe(true);
    // With no grace period the same race would have taken the in-flight file: the grace is what protects it.
    const unprotected = join(location, 'data', 'unprotected.parquet');
    await writeFile(unprotected, 'x');
    expect((await cleanOrphanFiles(catalog, id, { olderThanMs: 0, dryRun: true })).dataFiles.map((f) => f.location)).toContain(unprotected);
  });

  it('treats s3a:// and s3:// as the same objects and file: URIs as paths', () => {
    expect(normalize('s3a://bucket/t/data/a.parquet')).toBe('s3://bucket/t/data/a.parquet');
    expect(normalize('file:///tmp/t/a.parquet')).toBe('/tmp/t/a.parquet');
  });
});
