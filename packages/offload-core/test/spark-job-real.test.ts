import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import {
  createTempDir,
  createTestDatabase,
  findSpark,
  openTestPool,
  runSparkSql,
  sparkEnv,
  sparkSubmitCommand,
  startClickHouseServer,
  startEmbeddedClickHouse,
} from '@coldtier/test-support';
import type { ClickHouseTestServer, EmbeddedClickHouse, SparkInstall, TempDir, TestDatabase } from '@coldtier/test-support';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INITIAL_CURSOR, parseConfig, parseMicros } from '@coldtier/offload-core';
import type { OffloadJob } from '@coldtier/offload-core';
import type { Catalog } from '../src/iceberg/catalog/catalog.js';
import { FilesystemCatalog } from '../src/iceberg/catalog/filesystem.js';
import { SqlCatalog } from '../src/iceberg/catalog/sql.js';
import { LocalFileIO } from '../src/iceberg/io/local.js';
import { currentSchema, currentSnapshot } from '../src/iceberg/spec/table-metadata.js';
import { listLiveDataFiles } from '../src/iceberg/transaction/table-scan.js';
import { TARGET_TABLE_PROPERTIES } from '../src/runner/embedded/target-table.js';
import type { IcebergCatalogSettings } from '../src/runner/spark/args.js';
import { SparkJobRunner } from '../src/runner/spark/spark-runner.js';

/**
 * The PySpark job on real Spark 3.5 + Iceberg 1.8 (spark-submit local[2]),
 * reading ClickHouse over HTTP, through the SparkJobRunner, into both
 * catalogs: Array, Map, Tuple, Nullable, Decimal, DateTime64 and a UInt64
 * sequence above 2^63. Spark itself and an independent reader (ClickHouse over
 * the data files our own manifest reader lists) agree with the source.
 */

const JOB = fileURLToPath(new URL('../spark/offload_job.py', import.meta.url));
const ROWS = 500;
const BASE_SEQ = 2n ** 63n + 7n;

let temp: TempDir;
let server: ClickHouseTestServer;
let ch: ClickHouseClient;
/** The independent reader: an in-process ClickHouse reading the data files directly. */
let reader: EmbeddedClickHouse;
let database: TestDatabase;
let pool: pg.Pool;
let spark: SparkInstall;

beforeAll(async () => {
  temp = await createTempDir();
  spark = await findSpark();
  server = await startClickHouseServer({ password: 'ch-secret' });
  ch = server.client();
  reader = await startEmbeddedClickHouse();
  database = await createTestDatabase();
  pool = openTestPool({ connectionString: database.url });
  await ch.command({ query: 'CREATE DATABASE src' });
  await ch.command({
    query: `CREATE TABLE src.events (
      ts DateTime64(3, 'UTC'), seq UInt64, tags Array(String), attrs Map(String, Int64),
      price Decimal(18, 4), note Nullable(String), pair Tuple(a String, b Int32)
    ) ENGINE = MergeTree ORDER BY (ts, seq)`,
  });
  await ch.command({
    query: `INSERT INTO src.events SELECT
      toDateTime64('2026-01-01 00:00:00', 3, 'UTC') + toIntervalMillisecond(number * 1001),
      ${BASE_SEQ} + number, [toString(number), 'x'], map('a', toInt64(number), 'b', toInt64(-number)),
      toDecimal64(number, 4) / 3, if(number % 3 = 0, NULL, concat('n', toString(number))), tuple(toString(number % 7), toInt32(number))
      FROM numbers(${ROWS})`,
  });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await reader?.close();
  await pool?.end();
  await database?.drop();
  await temp?.remove();
});

function offloadJob(runId: string, target: string): OffloadJob {
  const table = parseConfig({
    tables: [{ source: 'src.events', target, layer: 'bronze', timestampColumn: 'ts', sequenceColumn: 'seq' }],
  }).tables[0]!;
  return { runId, table, attempt: 1, window: { after: INITIAL_CURSOR, untilMicros: parseMicros('2026-01-02T00:00:00Z') } };
}

function runner(catalog: Catalog, settings: IcebergCatalogSettings): SparkJobRunner {
  return new SparkJobRunner({
    command: [...sparkSubmitCommand(spark, { localDir: temp.path }), JOB],
    killGraceMs: 5_000,
    env: sparkEnv(),
    clickhouse: { url: server.url, user: server.username, password: server.password },
    catalog: settings,
    target: { clickhouse: ch, catalog },
  });
}

/** Count and per-column sums, computed the same way over any reader's rows. */
const AGGREGATES = `count() AS n, toString(sum(toUInt128(seq))) AS seq, toString(sum(length(tags))) AS tags,
  toString(sum(attrs['a'])) AS attrs_a, toString(sum(price)) AS price, toString(countIf(note IS NULL)) AS null_notes,
  toString(sum(pair.b)) AS pair_b, toString(toUnixTimestamp64Micro(toDateTime64(max(ts), 6, 'UTC'))) AS max_ts_micros`;

async function aggregates(client: ClickHouseClient, from: string): Promise<Record<string, unknown>> {
  const result = await client.query({ query: `SELECT ${AGGREGATES} FROM ${from}`, format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 0 } });
  const [row] = await result.json<Record<string, unknown>>();
  return row!;
}

describe('the Spark job on real Spark', () => {
  const fsWarehouse = (): string => `${temp.path}/fs-warehouse`;
  const sqlWarehouse = (): string => `${temp.path}/sql-warehouse`;
  const jdbc = (): { uri: string; user: string; password: string } => {
    const url = new URL(database.url);
    return { uri: `jdbc:postgresql://${url.host}${url.pathname}`, user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  };

  it('offloads every type into both catalogs, identical tables, and Spark and an independent reader agree with the source', async () => {
    const source = await aggregates(ch, 'src.events');
    expect(source['n']).toBe(ROWS);
    const fsCatalog = new FilesystemCatalog({ warehouse: fsWarehouse() });
    const sqlCatalog = new SqlCatalog({ name: 'coldtier', pool, io: new LocalFileIO(), warehouse: sqlWarehouse() });
    await sqlCatalog.initialize();
    const targets: [Catalog, IcebergCatalogSettings][] = [
      [fsCatalog, { type: 'hadoop', warehouse: fsWarehouse() }],
      [sqlCatalog, { type: 'jdbc', warehouse: sqlWarehouse(), ...jdbc() }],
    ];
    const id = { namespace: ['cold'], name: 'events' };
    for (const [catalog, settings] of targets) {
      const spark = runner(catalog, settings);
      const job = offloadJob(`run-${settings.type}`, 'cold.events');
      const result = await spark.run(job, new AbortController().signal);
      expect(result.rowsWritten).toBe(ROWS);
      expect(result.maxCursor?.sequence).toBe(BASE_SEQ + BigInt(ROWS - 1));
      // Recovery reads the job's summary as the embedded runner's: the orchestrator would fast-forward to it.
      expect(await spark.committedWatermark(job.table, new AbortController().signal)).toEqual(result.maxCursor);

      const table = await catalog.loadTable(id);
      const schema = currentSchema(table.metadata);
      // The embedded runner's table: its types, required fields and properties; Spark changed none of them.
      expect(schema.fields.map((f) => [f.name, f.required, typeof f.type === 'string' ? f.type : f.type.type])).toEqual([
        ['ts', true, 'timestamptz'],
        ['seq', true, 'decimal(20, 0)'],
        ['tags', true, 'list'],
        ['attrs', true, 'map'],
        ['price', true, 'decimal(18, 4)'],
        ['note', false, 'string'],
        ['pair', true, 'struct'],
      ]);
      expect(table.metadata.schemas).toHaveLength(1);
      expect(table.metadata.properties).toMatchObject(TARGET_TABLE_PROPERTIES);
      expect(table.metadata.partitionSpecs[0]?.fields.map((f) => f.transform)).toEqual(['day']);
      const snapshot = currentSnapshot(table.metadata);
      expect(snapshot?.summary).toMatchObject({
        'coldtier.run-id': `run-${settings.type}`,
        'coldtier.source-table': 'src.events',
        'added-records': String(ROWS),
      });
      expect(JSON.parse(snapshot!.summary['coldtier.watermark']!)).toMatchObject({ sequence: String(BASE_SEQ + BigInt(ROWS - 1)) });

      // Independent reader: ClickHouse over the data files our manifest reader lists.
      // chdb confines file() to its user_files_path, the working directory.
      const files = (await listLiveDataFiles(catalog.io, table.metadata)).map((f) => relative(temp.path, f.dataFile.filePath.replace(/^file:/, '')));
      const cwd = process.cwd();
      process.chdir(temp.path);
      const read = await aggregates(reader.client, `file('{${files.join(',')}}', 'Parquet')`).finally(() => process.chdir(cwd));
      expect(read).toEqual(source);
    }

    // Spark's own reading of both tables.
    const [fsRows, sqlRows] = await runSparkSql({
      localDir: temp.path,
      conf: {
        'spark.sql.catalog.fs': 'org.apache.iceberg.spark.SparkCatalog',
        'spark.sql.catalog.fs.type': 'hadoop',
        'spark.sql.catalog.fs.warehouse': fsWarehouse(),
        // The JDBC catalog's rows carry the Spark catalog's name: `coldtier`, as Coldtier's SqlCatalog.
        'spark.sql.catalog.coldtier': 'org.apache.iceberg.spark.SparkCatalog',
        'spark.sql.catalog.coldtier.catalog-impl': 'org.apache.iceberg.jdbc.JdbcCatalog',
        'spark.sql.catalog.coldtier.uri': jdbc().uri,
        'spark.sql.catalog.coldtier.jdbc.user': jdbc().user,
        'spark.sql.catalog.coldtier.jdbc.password': jdbc().password,
        'spark.sql.catalog.coldtier.warehouse': sqlWarehouse(),
      },
      statements: ['fs', 'coldtier'].map(
        (c) => `SELECT count(*) AS n, CAST(sum(seq) AS STRING) AS seq, CAST(sum(size(tags)) AS STRING) AS tags,
          CAST(sum(attrs['a']) AS STRING) AS attrs_a, CAST(sum(price) AS STRING) AS price,
          CAST(count_if(note IS NULL) AS STRING) AS null_notes, CAST(sum(pair.b) AS STRING) AS pair_b
          FROM ${c}.cold.events`,
      ),
    });
    for (const rows of [fsRows, sqlRows]) {
      const [row] = rows!;
      const { max_ts_micros: _, ...expected } = source;
      expect({ ...row, price: Number(row!['price']).toFixed(4) }).toEqual({ ...expected, price: Number(expected['price']).toFixed(4) });
    }
  }, 600_000);
});
