import { readdir, readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { createTempDir, createTestDatabase, hadoopCatalogConf, openTestPool, runSparkSql, startEmbeddedClickHouse } from '@coldtier/test-support';
import type { EmbeddedClickHouse, TempDir, TestDatabase } from '@coldtier/test-support';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Catalog, TableIdentifier } from '../src/iceberg/catalog/catalog.js';
import { FilesystemCatalog } from '../src/iceberg/catalog/filesystem.js';
import { SqlCatalog } from '../src/iceberg/catalog/sql.js';
import { LocalFileIO } from '../src/iceberg/io/local.js';
import { currentSchema, currentSnapshot } from '../src/iceberg/spec/table-metadata.js';
import { fastAppend } from '../src/iceberg/transaction/fast-append.js';
import { listLiveDataFiles } from '../src/iceberg/transaction/table-scan.js';
import { ClickHouseParquetSource, describeClickHouseColumns } from '../src/iceberg/writer/clickhouse-parquet-source.js';
import { INITIAL_CURSOR, parseMicros } from '../src/watermark/cursor.js';

/**
 * Spark writes gzipped metadata (`write.metadata.compression-codec=gzip`) in
 * both catalogs; Coldtier appends on top of Spark's newest version, writes
 * gzipped metadata itself, and Spark then sees every row: none lost. Then
 * Spark interleaves its maintenance (rewrite_data_files, rewrite_manifests,
 * expire_snapshots) and Coldtier appends again: totals still equal.
 */

const METADATA_CODEC = 'write.metadata.compression-codec';
const id: TableIdentifier = { namespace: ['cold'], name: 'trades_gz' };

let temp: TempDir;
let database: TestDatabase;
let pool: pg.Pool;
let ch: EmbeddedClickHouse;
let fsCatalog: FilesystemCatalog;
let sqlCatalog: SqlCatalog;
let fsWarehouse: string;
let sqlWarehouse: string;
let sparkConf: Record<string, string>;

/** Spark's JDBC catalog `coldtier` on the test database, as Coldtier's SqlCatalog named `coldtier` reads it. */
function jdbcConf(url: string, warehouse: string): Record<string, string> {
  const parsed = new URL(url);
  return {
    'spark.sql.catalog.coldtier': 'org.apache.iceberg.spark.SparkCatalog',
    'spark.sql.catalog.coldtier.catalog-impl': 'org.apache.iceberg.jdbc.JdbcCatalog',
    'spark.sql.catalog.coldtier.uri': `jdbc:postgresql://${parsed.host}${parsed.pathname}`,
    'spark.sql.catalog.coldtier.jdbc.user': decodeURIComponent(parsed.username),
    'spark.sql.catalog.coldtier.jdbc.password': decodeURIComponent(parsed.password),
    'spark.sql.catalog.coldtier.warehouse': warehouse,
  };
}

beforeAll(async () => {
  temp = await createTempDir();
  database = await createTestDatabase();
  pool = openTestPool({ connectionString: database.url });
  ch = await startEmbeddedClickHouse();
  await ch.client.command({ query: 'CREATE DATABASE src' });
  await ch.client.command({ query: 'CREATE TABLE src.trades (trade_id Int64, symbol String, price Float64) ENGINE = MergeTree ORDER BY trade_id' });
  await ch.client.command({ query: "INSERT INTO src.trades VALUES (2, 'ETH/USDT', 3000.5), (3, 'SOL/USDT', 150.25), (4, 'BTC/USDT', 50100)" });

  // One Spark session (a JVM start costs tens of seconds here) writes the table in both catalogs.
  fsWarehouse = `${temp.path}/fs-warehouse`;
  sqlWarehouse = `${temp.path}/sql-warehouse`;
  sparkConf = { ...hadoopCatalogConf('fs', fsWarehouse), ...jdbcConf(database.url, sqlWarehouse) };
  await runSparkSql({
    localDir: temp.path,
    conf: sparkConf,
    statements: ['fs', 'coldtier'].flatMap((catalog) => [
      `CREATE NAMESPACE IF NOT EXISTS ${catalog}.cold`,
      `CREATE TABLE ${catalog}.cold.trades_gz (trade_id BIGINT, symbol STRING, price DOUBLE) USING iceberg
       TBLPROPERTIES ('format-version'='2', '${METADATA_CODEC}'='gzip')`,
      `INSERT INTO ${catalog}.cold.trades_gz VALUES (1, 'BTC/USDT', 50000.0)`,
    ]),
  });
  fsCatalog = new FilesystemCatalog({ warehouse: fsWarehouse });
  sqlCatalog = new SqlCatalog({ name: 'coldtier', pool, io: new LocalFileIO(), warehouse: sqlWarehouse });
}, 300_000);

afterAll(async () => {
  await ch?.close();
  await pool?.end();
  await database?.drop();
  await temp?.remove();
});

/** Coldtier writes rows 2..4 from ClickHouse and appends them in one snapshot. */
async function coldtierAppend(catalog: Catalog, runId = 'coldtier-gz'): Promise<string> {
  const before = await catalog.loadTable(id);
  const source = new ClickHouseParquetSource(ch.client, { targetFileSizeBytes: 1024 * 1024 });
  const written = await source.writeWindow({
    table: { name: 'trades_gz', source: { namespace: 'src', name: 'trades' }, timestampColumn: 'trade_id', sequenceColumn: 'trade_id', tieBreakerColumns: [], final: false },
    schema: currentSchema(before.metadata),
    columns: await describeClickHouseColumns(ch.client, { namespace: 'src', name: 'trades' }),
    partitionSpec: before.metadata.partitionSpecs[0]!,
    window: { after: INITIAL_CURSOR, untilMicros: parseMicros('2000-01-01T00:00:00Z') },
    tableLocation: before.metadata.location,
    runId,
  });
  const appended = await fastAppend(catalog, id, written.dataFiles, { snapshotProperties: { 'coldtier.run-id': runId } });
  return appended.table.metadataLocation;
}

describe('gzipped table metadata written by Spark', () => {
  it('filesystem catalog: finds Spark’s v2.gz.metadata.json and commits v3 gzipped beside it', async () => {
    const metadataDir = `${fsWarehouse}/cold/trades_gz/metadata`;
    expect((await readdir(metadataDir)).filter((n) => n.endsWith('.json')).sort()).toEqual(['v1.gz.metadata.json', 'v2.gz.metadata.json']);
    const loaded = await fsCatalog.loadTable(id);
    expect(loaded.metadataLocation).toBe(`${metadataDir}/v2.gz.metadata.json`);
    expect(currentSnapshot(loaded.metadata)?.summary['total-records']).toBe('1');

    const location = await coldtierAppend(fsCatalog);
    expect(location).toBe(`${metadataDir}/v3.gz.metadata.json`);
    const bytes = await readFile(location);
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    expect((await readdir(metadataDir)).filter((n) => /^v3\./.test(n))).toEqual(['v3.gz.metadata.json']);
  });

  it('SQL catalog: reads Spark’s gzipped pointer target and commits gzipped metadata', async () => {
    const loaded = await sqlCatalog.loadTable(id);
    expect(loaded.metadataLocation).toMatch(/\/00001-[0-9a-f-]+\.gz\.metadata\.json$/);
    expect(currentSnapshot(loaded.metadata)?.summary['total-records']).toBe('1');
    const location = await coldtierAppend(sqlCatalog);
    expect(location).toMatch(/\/00002-[0-9a-f-]+\.gz\.metadata\.json$/);
    const bytes = await readFile(location);
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
  });

  it('Spark sees Coldtier’s rows in both catalogs, appends after them, and Coldtier sees Spark’s: 0 rows lost', async () => {
    const results = await runSparkSql({
      localDir: temp.path,
      conf: sparkConf,
      statements: [
        'SELECT count(*) AS n, sum(trade_id) AS s FROM fs.cold.trades_gz',
        'SELECT count(*) AS n, sum(trade_id) AS s FROM coldtier.cold.trades_gz',
        ...['fs', 'coldtier'].flatMap((c) => [
          `INSERT INTO ${c}.cold.trades_gz VALUES (5, 'ADA/USDT', 0.5)`,
          `CALL ${c}.system.rewrite_data_files(table => 'cold.trades_gz', options => map('min-input-files', '2'))`,
          `CALL ${c}.system.rewrite_manifests('cold.trades_gz')`,
          `CALL ${c}.system.expire_snapshots(table => 'cold.trades_gz', older_than => TIMESTAMP '2999-01-01 00:00:00', retain_last => 1)`,
        ]),
      ],
    });
    for (const at of [2, 6]) {
      expect(results[at + 1]?.[0]).toMatchObject({ rewritten_data_files_count: 3, added_data_files_count: 1 });
      expect(results[at + 2]?.[0]?.['rewritten_manifests_count']).toBeGreaterThan(0);
      expect(results[at + 3]?.[0]?.['deleted_data_files_count']).toBe(3);
    }
    // Spark's `sum` of BIGINT is BIGINT: exact in JSON at these sizes.
    expect(results[0]).toEqual([{ n: 4, s: 10 }]);
    expect(results[1]).toEqual([{ n: 4, s: 10 }]);
    for (const catalog of [fsCatalog, sqlCatalog]) {
      const table = await catalog.loadTable(id);
      expect(table.metadataLocation).toMatch(/\.gz\.metadata\.json$/);
      expect(table.metadata.snapshots).toHaveLength(1);
      expect(currentSnapshot(table.metadata)?.summary).toMatchObject({ 'total-records': '5' });
    }
  }, 300_000);

  it('Coldtier appends after Spark’s compaction, manifest rewrite and snapshot expiry: totals equal', async () => {
    for (const catalog of [fsCatalog, sqlCatalog]) {
      await coldtierAppend(catalog, 'coldtier-gz-after-maintenance');
      const table = await catalog.loadTable(id);
      expect(currentSnapshot(table.metadata)?.summary).toMatchObject({ 'total-records': '8', 'added-records': '3' });
      // An independent reader over the live files: Spark's compacted file and Coldtier's new one.
      const files = await listLiveDataFiles(catalog.io, table.metadata);
      expect(files).toHaveLength(2);
      const cwd = process.cwd();
      process.chdir(temp.path);
      const paths = files.map((f) => relative(temp.path, f.dataFile.filePath.replace(/^file:/, '')));
      const result = await ch.client
        .query({ query: `SELECT count() AS n, sum(trade_id) AS s FROM file('{${paths.join(',')}}', 'Parquet')`, format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 0 } })
        .finally(() => process.chdir(cwd));
      expect(await result.json()).toEqual([{ n: 8, s: 1 + 2 + 3 + 4 + 5 + 2 + 3 + 4 }]);
    }
  });
});
