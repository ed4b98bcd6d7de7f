import { readFile, readdir } from 'node:fs/promises';
import { relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSparkFixture, createTempDir, startEmbeddedClickHouse } from '@coldtier/test-support';
import type { EmbeddedClickHouse, SparkFixture, SparkFixtureTable, TempDir } from '@coldtier/test-support';
import { FilesystemCatalog } from '../src/iceberg/catalog/filesystem.js';
import { readParquetFooter, schemaTree, SchemaElementField } from '../src/iceberg/parquet/footer.js';
import { getI32 } from '../src/iceberg/parquet/thrift-compact.js';
import { decodeAvroFile } from '../src/iceberg/spec/avro.js';
import { ManifestEntryStatus, writeManifest } from '../src/iceberg/spec/manifest.js';
import { writeManifestList } from '../src/iceberg/spec/manifest-list.js';
import { currentSchema, currentSnapshot, tableMetadataFromJson, tableMetadataToJson } from '../src/iceberg/spec/table-metadata.js';
import { valueFromBytes } from '../src/iceberg/spec/values.js';
import { fastAppend } from '../src/iceberg/transaction/fast-append.js';
import { listLiveDataFiles, mainAncestry, readManifestEntries, readSnapshotManifests } from '../src/iceberg/transaction/table-scan.js';
import { ClickHouseParquetSource, describeClickHouseColumns } from '../src/iceberg/writer/clickhouse-parquet-source.js';
import { INITIAL_CURSOR, parseMicros } from '../src/watermark/cursor.js';

/**
 * Real Spark 3.5 + Iceberg 1.8 writes two tables at test time, in one Spark
 * session (a JVM start costs tens of seconds): one our readers read, one
 * Coldtier appends to. Spark's own report is what our readers must match.
 */
let temp: TempDir;
let fixture: SparkFixture;
beforeAll(async () => {
  temp = await createTempDir();
  fixture = await createSparkFixture(temp.path, [{ name: 'trades_test' }, { name: 'trades_append' }]);
}, 300_000);
afterAll(() => temp?.remove());

describe('reading a table Spark 3.5 + Iceberg 1.8 wrote', () => {
  const id = { namespace: ['cold'], name: 'trades_test' };
  let spark: SparkFixtureTable;
  let catalog: FilesystemCatalog;
  let LOCATION: string;
  let SNAPSHOT_ID: bigint;

  beforeAll(() => {
    spark = fixture.tables[0]!;
    catalog = new FilesystemCatalog({ warehouse: fixture.warehouse });
    LOCATION = spark.location;
    SNAPSHOT_ID = spark.snapshotId;
  });

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

interface Trade {
  trade_id: number;
  symbol: string;
  price: number;
}

describe('appending to a table Spark 3.5 + Iceberg 1.8 wrote', () => {
  const id = { namespace: ['cold'], name: 'trades_append' };
  let ch: EmbeddedClickHouse;
  let catalog: FilesystemCatalog;
  let WAREHOUSE: string;
  let LOCATION: string;
  let SPARK_SNAPSHOT: bigint;
  let SPARK_FILE: string;

  beforeAll(async () => {
    const table = fixture.tables[1];
    WAREHOUSE = fixture.warehouse;
    LOCATION = table!.location;
    SPARK_SNAPSHOT = table!.snapshotId;
    SPARK_FILE = table!.dataFile.path;
    catalog = new FilesystemCatalog({ warehouse: WAREHOUSE });
    ch = await startEmbeddedClickHouse();
    await ch.client.command({ query: 'CREATE DATABASE src' });
    await ch.client.command({ query: 'CREATE TABLE src.trades (trade_id Int64, symbol String, price Float64) ENGINE = MergeTree ORDER BY trade_id' });
    await ch.client.command({ query: "INSERT INTO src.trades VALUES (2, 'ETH/USDT', 3000.5), (3, 'SOL/USDT', 150.25), (4, 'BTC/USDT', 50100)" });
  }, 120_000);
  afterAll(async () => {
    await ch?.close();
  });

  it('is loaded, appended to by Coldtier, and read back with the Spark row and ours', async () => {
    const before = await catalog.loadTable(id);
    const schema = currentSchema(before.metadata);
    const source = new ClickHouseParquetSource(ch.client, { targetFileSizeBytes: 1024 * 1024 });
    // The source has no timestamp: trade_id orders the rows, read as seconds since the epoch.
    const written = await source.writeWindow({
      table: { name: 'trades_append', source: { namespace: 'src', name: 'trades' }, timestampColumn: 'trade_id', sequenceColumn: 'trade_id', tieBreakerColumns: [], final: false },
      schema,
      columns: await describeClickHouseColumns(ch.client, { namespace: 'src', name: 'trades' }),
      partitionSpec: before.metadata.partitionSpecs[0]!,
      window: { after: INITIAL_CURSOR, untilMicros: parseMicros('2000-01-01T00:00:00Z') },
      tableLocation: LOCATION,
      runId: 'coldtier-append',
    });
    expect(written.rowCount).toBe(3n);
    const appended = await fastAppend(catalog, id, written.dataFiles, { snapshotProperties: { 'coldtier.run-id': 'coldtier-append' } });

    // Our file carries Spark's field ids.
    const [file] = written.dataFiles;
    const root = schemaTree((await readParquetFooter(file!.filePath)).metadata);
    expect(root.children.map((c) => [c.name, getI32(c.element, SchemaElementField.fieldId)])).toEqual(schema.fields.map((f) => [f.name, f.id]));

    // The commit: v3 next to Spark's v1 and v2, the hint moved, the snapshot chained onto Spark's.
    expect(appended.table.metadataLocation).toBe(`${LOCATION}/metadata/v3.metadata.json`);
    const names = await readdir(`${LOCATION}/metadata`);
    expect(names.filter((n) => /^v\d+\.metadata\.json$/.test(n)).sort()).toEqual(['v1.metadata.json', 'v2.metadata.json', 'v3.metadata.json']);
    expect((await readFile(`${LOCATION}/metadata/version-hint.text`, 'utf8')).trim()).toBe('3');
    const table = await catalog.loadTable(id);
    expect(table.metadata.tableUuid).toBe(before.metadata.tableUuid);
    expect(currentSnapshot(table.metadata)?.parentSnapshotId).toBe(SPARK_SNAPSHOT);
    expect(mainAncestry(table.metadata).map((s) => s.snapshotId)).toEqual([appended.snapshot.snapshotId, SPARK_SNAPSHOT]);
    expect(table.metadata.metadataLog.map((e) => e.metadataFile)).toEqual([`${LOCATION}/metadata/v1.metadata.json`, `${LOCATION}/metadata/v2.metadata.json`]);
    expect(currentSnapshot(table.metadata)?.summary).toMatchObject({ 'total-records': '4', 'total-data-files': '2', 'added-records': '3' });

    // Our readers: the live files are Spark's and ours.
    const live = await listLiveDataFiles(catalog.io, table.metadata);
    expect(live.map((f) => [f.dataFile.filePath, f.dataFile.recordCount, f.snapshotId]).sort()).toEqual(
      [
        [SPARK_FILE, 1n, SPARK_SNAPSHOT],
        [file!.filePath, 3n, appended.snapshot.snapshotId],
      ].sort(),
    );

    const expected: Trade[] = [
      { trade_id: 1, symbol: 'BTC/USDT', price: 50000 },
      { trade_id: 2, symbol: 'ETH/USDT', price: 3000.5 },
      { trade_id: 3, symbol: 'SOL/USDT', price: 150.25 },
      { trade_id: 4, symbol: 'BTC/USDT', price: 50100 },
    ];
    // ClickHouse reads the files the manifests list, by field id.
    const files = await ch.client.query({
      query: `SELECT * FROM (SELECT trade_id, symbol, price FROM file({a:String}, 'Parquet') UNION ALL SELECT trade_id, symbol, price FROM file({b:String}, 'Parquet')) ORDER BY trade_id`,
      query_params: { a: live[0]!.dataFile.filePath, b: live[1]!.dataFile.filePath },
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    expect(await files.json<Trade>()).toEqual(expected);

    // And ClickHouse's Iceberg reader sees the table as committed. chdb confines
    // table functions to its user_files_path, the working directory.
    const cwd = process.cwd();
    process.chdir(WAREHOUSE);
    const result = await ch.client
      .query({ query: `SELECT trade_id, symbol, price FROM icebergLocal('${relative(WAREHOUSE, LOCATION)}') ORDER BY trade_id`,
        format: 'JSONEachRow',
        clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
      })
      .finally(() => process.chdir(cwd));
    expect(await result.json<Trade>()).toEqual(expected);
  });
});

/** Spark's metadata strings are JSON (or plain values for ids); parse both alike. */
function normalise(v: string | undefined): string {
  if (v === undefined) return 'null';
  return /^[[{]/.test(v) ? v : JSON.stringify(/^\d+$/.test(v) ? Number(v) : v);
}

