import { readdir, readFile } from 'node:fs/promises';
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
import { ClickHouseParquetSource, describeClickHouseColumns } from '../src/iceberg/writer/clickhouse-parquet-source.js';
import { INITIAL_CURSOR, parseMicros } from '../src/watermark/cursor.js';

/**
 * Spark writes gzipped metadata (`write.metadata.compression-codec=gzip`) in
 * both catalogs; Coldtier appends on top of Spark's newest version, writes
 * gzipped metadata itself, and Spark then sees every row: none lost.
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
async function coldtierAppend(catalog: Catalog): Promise<string> {
  const before = await catalog.loadTable(id);
  const source = new ClickHouseParquetSource(ch.client, { targetFileSizeBytes: 1024 * 1024 });
  const written = await source.writeWindow({
    table: { name: 'trades_gz', source: { namespace: 'src', name: 'trades' }, timestampColumn: 'trade_id', sequenceColumn: 'trade_id', tieBreakerColumns: [], final: false },
    schema: currentSchema(before.metadata),
    columns: await describeClickHouseColumns(ch.client, { namespace: 'src', name: 'trades' }),
    partitionSpec: before.metadata.partitionSpecs[0]!,
    window: { after: INITIAL_CURSOR, untilMicros: parseMicros('2000-01-01T00:00:00Z') },
    tableLocation: before.metadata.location,
    runId: 'coldtier-gz',
  });
  const appended = await fastAppend(catalog, id, written.dataFiles, { snapshotProperties: { 'coldtier.run-id': 'coldtier-gz' } });
  return appended.table.metadataLocation;
}

describe('gzipped table metadata written by Spark', () => {
  it('filesystem catalog: finds Spark’s v2.gz.metadata.json, commits v3 gzipped, and Spark reads all rows', async () => {
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
        "INSERT INTO fs.cold.trades_gz VALUES (5, 'ADA/USDT', 0.5)",
        "INSERT INTO coldtier.cold.trades_gz VALUES (5, 'ADA/USDT', 0.5)",
      ],
    });
    // Spark's `sum` of BIGINT is BIGINT: exact in JSON at these sizes.
    expect(results[0]).toEqual([{ n: 4, s: 10 }]);
    expect(results[1]).toEqual([{ n: 4, s: 10 }]);
    for (const catalog of [fsCatalog, sqlCatalog]) {
      const table = await catalog.loadTable(id);
      expect(table.metadataLocation).toMatch(/\.gz\.metadata\.json$/);
      expect(currentSnapshot(table.metadata)?.summary).toMatchObject({ 'total-records': '5', 'added-records': '1' });
    }
  }, 300_000);
});
