import { readFile, readdir } from 'node:fs/promises';
import { relative } from 'node:path';
import { createSparkFixture, createTempDir, startEmbeddedClickHouse } from '@coldtier/test-support';
import type { EmbeddedClickHouse, SparkFixture, TempDir } from '@coldtier/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FilesystemCatalog } from '../src/iceberg/catalog/filesystem.js';
import { readParquetFooter, schemaTree, SchemaElementField } from '../src/iceberg/parquet/footer.js';
import { getI32 } from '../src/iceberg/parquet/thrift-compact.js';
import { describeClickHouseColumns, ClickHouseParquetSource } from '../src/iceberg/writer/clickhouse-parquet-source.js';
import { currentSchema, currentSnapshot } from '../src/iceberg/spec/table-metadata.js';
import { fastAppend } from '../src/iceberg/transaction/fast-append.js';
import { listLiveDataFiles, mainAncestry } from '../src/iceberg/transaction/table-scan.js';
import { INITIAL_CURSOR, parseMicros } from '../src/watermark/cursor.js';


interface Trade {
  trade_id: number;
  symbol: string;
  price: number;
}

describe('appending to a table Spark 3.5 + Iceberg 1.8 wrote', () => {
  const id = { namespace: ['cold'], name: 'trades_test' };
  let ch: EmbeddedClickHouse;
  let temp: TempDir;
  let fixture: SparkFixture;
  let catalog: FilesystemCatalog;
  let WAREHOUSE: string;
  let LOCATION: string;
  let SPARK_SNAPSHOT: bigint;
  let SPARK_FILE: string;

  beforeAll(async () => {
    temp = await createTempDir();
    fixture = await createSparkFixture(temp.path, [{ name: 'trades_test' }]);
    const [table] = fixture.tables;
    WAREHOUSE = fixture.warehouse;
    LOCATION = table!.location;
    SPARK_SNAPSHOT = table!.snapshotId;
    SPARK_FILE = table!.dataFile.path;
    catalog = new FilesystemCatalog({ warehouse: WAREHOUSE });
    ch = await startEmbeddedClickHouse();
    await ch.client.command({ query: 'CREATE DATABASE src' });
    await ch.client.command({ query: 'CREATE TABLE src.trades (trade_id Int64, symbol String, price Float64) ENGINE = MergeTree ORDER BY trade_id' });
    await ch.client.command({ query: "INSERT INTO src.trades VALUES (2, 'ETH/USDT', 3000.5), (3, 'SOL/USDT', 150.25), (4, 'BTC/USDT', 50100)" });
  }, 300_000);
  afterAll(async () => {
    await ch?.close();
    await temp?.remove();
  });

  it('is loaded, appended to by Coldtier, and read back with the Spark row and ours', async () => {
    const before = await catalog.loadTable(id);
    const schema = currentSchema(before.metadata);
    const source = new ClickHouseParquetSource(ch.client, { targetFileSizeBytes: 1024 * 1024 });
    // The source has no timestamp: trade_id orders the rows, read as seconds since the epoch.
    const written = await source.writeWindow({
      table: { name: 'trades_test', source: { namespace: 'src', name: 'trades' }, timestampColumn: 'trade_id', sequenceColumn: 'trade_id', tieBreakerColumns: [], final: false },
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

