import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSparkFixture, createTempDir } from '@coldtier/test-support';
import type { SparkFixture, SparkFixtureTable, TempDir } from '@coldtier/test-support';
import { FilesystemCatalog } from '../src/iceberg/catalog/filesystem.js';
import { decodeAvroFile } from '../src/iceberg/spec/avro.js';
import { ManifestEntryStatus, writeManifest } from '../src/iceberg/spec/manifest.js';
import { writeManifestList } from '../src/iceberg/spec/manifest-list.js';
import { currentSnapshot, tableMetadataFromJson, tableMetadataToJson } from '../src/iceberg/spec/table-metadata.js';
import { valueFromBytes } from '../src/iceberg/spec/values.js';
import { listLiveDataFiles, readManifestEntries, readSnapshotManifests } from '../src/iceberg/transaction/table-scan.js';

/** Real Spark 3.5 + Iceberg 1.8 writes the table at test time; its own report is what our readers must match. */
describe('reading a table Spark 3.5 + Iceberg 1.8 wrote', () => {
  const id = { namespace: ['cold'], name: 'trades_test' };
  let temp: TempDir;
  let fixture: SparkFixture;
  let spark: SparkFixtureTable;
  let catalog: FilesystemCatalog;
  let LOCATION: string;
  let SNAPSHOT_ID: bigint;

  beforeAll(async () => {
    temp = await createTempDir();
    fixture = await createSparkFixture(temp.path, [{ name: 'trades_test' }]);
    spark = fixture.tables[0]!;
    catalog = new FilesystemCatalog({ warehouse: fixture.warehouse });
    LOCATION = spark.location;
    SNAPSHOT_ID = spark.snapshotId;
  }, 300_000);
  afterAll(() => temp?.remove());

  it('loads v2 metadata through the Hadoop layout, keeping the 63-bit snapshot id exact', async () => {
    const table = await catalog.loadTable(id);
    expect(table.metadataLocation).toBe(`${LOCATION}/metadata/v2.metadata.json`);
    const m = table.metadata;
    const raw = JSON.parse(await readFile(table.metadataLocation, 'utf8')) as { 'table-uuid': string; 'metadata-log': { 'timestamp-ms': number }[] };
    expect(m.tableUuid).toBe(raw['table-uuid']);
    expect(m.currentSnapshotId).toBe(SNAPSHOT_ID);
    expect(m.refs['main']).toEqual({ snapshotId: SNAPSHOT_ID, type: 'branch' });
    expect(m.schemas[0]?.fields.map((f) => [f.id, f.name, f.type])).toEqual([
      [1, 'trade_id', 'long'],
      [2, 'symbol', 'string'],
      [3, 'price', 'double'],
    ]);
    expect(m.metadataLog).toEqual([{ timestampMs: raw['metadata-log'][0]!['timestamp-ms'], metadataFile: `${LOCATION}/metadata/v1.metadata.json` }]);
    const snapshot = currentSnapshot(m);
    expect(snapshot?.summary).toMatchObject({ operation: 'append', 'total-records': '1', 'added-files-size': String(spark.dataFile.sizeInBytes) });
  });

  it('round-trips the metadata JSON without losing fields', async () => {
    const text = await readFile(`${LOCATION}/metadata/v2.metadata.json`, 'utf8');
    const parsed = tableMetadataFromJson(text);
    expect(tableMetadataFromJson(tableMetadataToJson(parsed))).toEqual(parsed);
    expect(tableMetadataToJson(parsed)).toContain(`"current-snapshot-id" : ${SNAPSHOT_ID}`);
  });

  it('reads the manifest list and the manifest, resolving inherited sequence numbers', async () => {
    const { metadata } = await catalog.loadTable(id);
    const snapshot = currentSnapshot(metadata);
    if (!snapshot) throw new Error('fixture has a snapshot');
    const manifests = await readSnapshotManifests(catalog.io, snapshot);
    expect(manifests).toHaveLength(1);
    expect(manifests[0]).toMatchObject({
      addedSnapshotId: SNAPSHOT_ID,
      sequenceNumber: 1n,
      addedFilesCount: 1,
      addedRowsCount: 1n,
      partitionSpecId: 0,
      content: 0,
    });
    const manifest = manifests[0];
    if (!manifest) throw new Error('one manifest');
    const [entry] = await readManifestEntries(catalog.io, metadata, manifest);
    expect(entry?.status).toBe(ManifestEntryStatus.ADDED);
    expect(entry?.snapshotId).toBe(SNAPSHOT_ID);
    expect(entry?.sequenceNumber).toBe(1n);
    const file = entry?.dataFile;
    expect(file?.filePath.replace(/^file:/, '')).toBe(spark.dataFile.path);
    expect(file?.recordCount).toBe(1n);
    expect(file?.fileSizeInBytes).toBe(BigInt(spark.dataFile.sizeInBytes));
    expect(file?.valueCounts.get(1)).toBe(1n);
    expect(valueFromBytes('long', file?.lowerBounds.get(1) ?? new Uint8Array())).toBe(1n);
    expect(valueFromBytes('string', file?.upperBounds.get(2) ?? new Uint8Array())).toBe('BTC/USDT');
    expect(valueFromBytes('double', file?.lowerBounds.get(3) ?? new Uint8Array())).toBe(50000);
    expect(await listLiveDataFiles(catalog.io, metadata)).toHaveLength(1);
  });

  it('writes manifests and manifest lists with the Avro schemas Spark wrote', async () => {
    const { metadata } = await catalog.loadTable(id);
    const snapshot = currentSnapshot(metadata);
    if (!snapshot) throw new Error('fixture has a snapshot');
    const [manifest] = await readSnapshotManifests(catalog.io, snapshot);
    if (!manifest) throw new Error('one manifest');
    const entries = await readManifestEntries(catalog.io, metadata, manifest);
    const spark = (path: string) => readFile(path).then((b) => decodeAvroFile(b, path));
    const sparkManifest = await spark(manifest.manifestPath);
    const ours = decodeAvroFile(
      writeManifest(
        { schema: metadata.schemas[0]!, spec: metadata.partitionSpecs[0]!, partitionFields: [] },
        entries.map((e) => ({ ...e, sequenceNumber: null, fileSequenceNumber: null })),
      ),
      'ours',
    );
    expect(ours.schema).toEqual(sparkManifest.schema);
    for (const key of ['schema', 'partition-spec', 'partition-spec-id', 'format-version', 'content', 'iceberg.schema']) {
      expect(JSON.parse(normalise(ours.metadata[key])), key).toEqual(JSON.parse(normalise(sparkManifest.metadata[key])));
    }
    const sparkList = await spark(snapshot.manifestList);
    const ourList = decodeAvroFile(
      writeManifestList({ snapshotId: SNAPSHOT_ID, parentSnapshotId: undefined, sequenceNumber: 1 }, [manifest]),
      'ours',
    );
    expect(ourList.schema).toEqual(sparkList.schema);
    for (const key of ['snapshot-id', 'parent-snapshot-id', 'sequence-number', 'format-version']) {
      expect(ourList.metadata[key], key).toBe(sparkList.metadata[key]);
    }
    expect(JSON.parse(ourList.metadata['iceberg.schema'] ?? '')).toEqual(JSON.parse(sparkList.metadata['iceberg.schema'] ?? ''));
  });
});

/** Spark's metadata strings are JSON (or plain values for ids); parse both alike. */
function normalise(v: string | undefined): string {
  if (v === undefined) return 'null';
  return /^[[{]/.test(v) ? v : JSON.stringify(/^\d+$/.test(v) ? Number(v) : v);
}

