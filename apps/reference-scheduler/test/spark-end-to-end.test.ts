import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentSchema, currentSnapshot, FilesystemCatalog, listLiveDataFiles, LocalFileIO, SqlCatalog, TARGET_TABLE_PROPERTIES } from '@coldtier/offload-core';
import type { Catalog } from '@coldtier/offload-core';
import {
  createTempDir,
  createTestDatabase,
  findSpark,
  hadoopCatalogConf,
  openTestPool,
  runSparkSql,
  sparkEnv,
  sparkSubmitCommand,
  startClickHouseServer,
  startEmbeddedClickHouse,
} from '@coldtier/test-support';
import type { ClickHouseTestServer, EmbeddedClickHouse, TempDir, TestDatabase } from '@coldtier/test-support';
import { assertBuilt, coldtier, daemonUrl, startDaemon, waitFor } from './cli-helpers.js';

/**
 * `coldtier run --once` and `coldtier start` with `runner.kind: spark`: real
 * spark-submit local[2] (PySpark 3.5.9, Iceberg 1.8.1) reading the ClickHouse
 * HTTP test server into both catalogs, configured once with the embedded
 * runner's keys. Array, Map, Tuple, Nullable, Decimal and DateTime64 columns
 * and a UInt64 sequence above 2^63; Spark and an independent reader
 * (ClickHouse over the data files Coldtier's manifest reader lists) agree
 * with the source on counts and per-column sums.
 */

const JOB = fileURLToPath(new URL('../../../packages/offload-core/spark/offload_job.py', import.meta.url));
const BATCH = 300;
const BASE_SEQ = 2n ** 63n + 7n;
const SCHEMA = [
  ['ts', true, 'timestamptz'],
  ['seq', true, 'decimal(20, 0)'],
  ['tags', true, 'list'],
  ['attrs', true, 'map'],
  ['price', true, 'decimal(18, 4)'],
  ['note', false, 'string'],
  ['pair', true, 'struct'],
];

let dir: TempDir;
let db: TestDatabase;
let pool: pg.Pool;
let server: ClickHouseTestServer;
let source: ClickHouseClient;
let reader: EmbeddedClickHouse;
let env: NodeJS.ProcessEnv;

const warehouse = (kind: string): string => join(dir.path, `${kind}-warehouse`);

/** When the last batch's insert returned (ms); the next batch waits until it can start after that batch's last row. */
let lastInsertAt = 0;

/**
 * Rows `from .. from+count-1`, 100 ms apart and ending a second ago. A batch
 * starts after every earlier batch's last row (it waits for that when the
 * previous one is younger than a batch spans), so none of it lands behind
 * the watermark as late data: a Spark run is not always longer than a batch.
 */
async function insertEvents(from: number, count: number): Promise<void> {
  const wait = lastInsertAt + count * 100 + 100 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  await source.command({
    query: `INSERT INTO src.events SELECT
      now64(3, 'UTC') - toIntervalMillisecond((${from + count} - number) * 100 + 1000),
      ${BASE_SEQ} + number, [toString(number), 'x'], map('a', toInt64(number), 'b', toInt64(-number)),
      toDecimal64(number, 4) / 3, if(number % 3 = 0, NULL, concat('n', toString(number))), tuple(toString(number % 7), toInt32(number))
      FROM numbers(${from}, ${count})`,
  });
  // After the insert: no later than the server's now64() of it, so the wait above is long enough.
  lastInsertAt = Date.now();
}

/** Count and per-column sums; 128-bit sums so the UInt64 sequence does not wrap. */
const AGGREGATES = `count() AS n, toString(sum(toUInt128(seq))) AS seq, toString(sum(length(tags))) AS tags,
  toString(sum(attrs['a'])) AS attrs_a, toString(sum(price)) AS price, toString(countIf(note IS NULL)) AS null_notes,
  toString(sum(pair.b)) AS pair_b`;

async function aggregates(client: ClickHouseClient, from: string): Promise<Record<string, unknown>> {
  const result = await client.query({ query: `SELECT ${AGGREGATES} FROM ${from}`, format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 0 } });
  return (await result.json<Record<string, unknown>>())[0]!;
}

function catalogOf(kind: 'filesystem' | 'sql'): Catalog {
  return kind === 'filesystem'
    ? new FilesystemCatalog({ warehouse: warehouse(kind) })
    : new SqlCatalog({ name: 'coldtier', pool, io: new LocalFileIO(), warehouse: warehouse(kind) });
}

async function writeConfig(kind: 'filesystem' | 'sql'): Promise<string> {
  const spark = await findSpark();
  const command = [...sparkSubmitCommand(spark, { localDir: dir.path }), JOB];
  const path = join(dir.path, `${kind}.yaml`);
  await writeFile(
    path,
    `lateDataBufferMinutes: 0
retry: { retries: 0 }
clickhouse: { url: ${JSON.stringify(server.url)}, username: offloader, passwordEnv: SOURCE_CLICKHOUSE_PASSWORD }
runner:
  kind: spark
  command: ${JSON.stringify(command)}
  killGraceSeconds: 5
  passEnv: [SPARK_LOCAL_IP, TMPDIR]
  catalog: ${kind}
  warehouse: ${JSON.stringify(warehouse(kind))}
tables:
  - { name: events_${kind}, source: src.events, target: cold.events, layer: bronze, timestampColumn: ts, sequenceColumn: seq, timeoutSeconds: 900 }
`,
  );
  return path;
}

beforeAll(async () => {
  assertBuilt();
  [dir, db, server, reader] = await Promise.all([
    createTempDir('coldtier-spark-e2e-'),
    createTestDatabase(),
    startClickHouseServer({ username: 'offloader', password: 'ch-secret' }),
    startEmbeddedClickHouse(),
  ]);
  pool = openTestPool({ connectionString: db.url });
  source = server.client();
  await source.command({ query: 'CREATE DATABASE src' });
  await source.command({
    query: `CREATE TABLE src.events (
      ts DateTime64(3, 'UTC'), seq UInt64, tags Array(String), attrs Map(String, Int64),
      price Decimal(18, 4), note Nullable(String), pair Tuple(a String, b Int32)
    ) ENGINE = MergeTree ORDER BY (ts, seq)`,
  });
  await insertEvents(0, BATCH);
  // The job's Python and scratch space (its staged Parquet) come from here, inside the test's dir.
  env = { ...sparkEnv({ TMPDIR: dir.path }), COLDTIER_DATABASE_URL: db.url, SOURCE_CLICKHOUSE_PASSWORD: server.password };
  expect((await coldtier(['migrate', '--config', await writeConfig('sql')], { env })).code).toBe(0);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await reader?.close();
  await pool?.end();
  await db?.drop();
  await dir?.remove();
});

/** What an independent reader finds in the files the table's manifests list. */
async function readTable(catalog: Catalog): Promise<Record<string, unknown>> {
  const table = await catalog.loadTable({ namespace: ['cold'], name: 'events' });
  const files = (await listLiveDataFiles(catalog.io, table.metadata)).map((f) => relative(dir.path, f.dataFile.filePath.replace(/^file:/, '')));
  // chdb confines file() to its user_files_path, the working directory.
  const cwd = process.cwd();
  process.chdir(dir.path);
  return aggregates(reader.client, `file('{${files.join(',')}}', 'Parquet')`).finally(() => process.chdir(cwd));
}

describe('the Spark runner end to end', () => {
  it('run --once offloads every type into both catalogs, the tables as the embedded runner makes them', { timeout: 900_000 }, async () => {
    const expected = await aggregates(source, 'src.events');
    expect(expected['n']).toBe(BATCH);
    for (const kind of ['filesystem', 'sql'] as const) {
      const run = await coldtier(['run', '--once', '--config', await writeConfig(kind)], { env });
      expect(run.code, run.stderr + run.stdout).toBe(0);

      const catalog = catalogOf(kind);
      const table = await catalog.loadTable({ namespace: ['cold'], name: 'events' });
      expect(currentSchema(table.metadata).fields.map((f) => [f.name, f.required, typeof f.type === 'string' ? f.type : f.type.type])).toEqual(SCHEMA);
      expect(table.metadata.schemas).toHaveLength(1);
      expect(table.metadata.properties).toMatchObject(TARGET_TABLE_PROPERTIES);
      expect(table.metadata.partitionSpecs[0]?.fields.map((f) => f.transform)).toEqual(['day']);
      const summary: Readonly<Record<string, string>> = currentSnapshot(table.metadata)?.summary ?? {};
      expect(summary).toMatchObject({ 'coldtier.source-table': 'src.events', 'added-records': String(BATCH) });
      expect(JSON.parse(summary['coldtier.watermark']!)).toMatchObject({ sequence: String(BASE_SEQ + BigInt(BATCH - 1)) });
      // The marker that outlives snapshot expiry by any engine, as the embedded runner keeps it.
      expect(table.metadata.properties['coldtier.watermark.src.events']).toBe(summary['coldtier.watermark']);
      expect(await readTable(catalog)).toEqual(expected);
    }
  });

  it('start offloads what arrives into either catalog, stops on SIGTERM, and Spark reads both tables as the source', { timeout: 1_200_000 }, async () => {
    await insertEvents(BATCH, BATCH);
    for (const kind of ['filesystem', 'sql'] as const) {
      // The first cycle runs at start; a long interval gives it a deadline (2/3 of it) a Spark start fits in.
      const daemon = startDaemon(['--config', await writeConfig(kind), '--interval-seconds', '600', '--port', '0'], { env, cwd: dir.path });
      const url = await daemonUrl(daemon);
      await waitFor(
        `a ${kind} cycle that moved the second batch`,
        async () => {
          const body = (await (await fetch(`${url}/status`)).json()) as { cycles: { status: string; totalRows: number }[] };
          return body.cycles.find((c) => c.status === 'success' && c.totalRows === BATCH);
        },
        daemon,
        600_000,
      );
      daemon.child.kill('SIGTERM');
      expect(await daemon.exited, daemon.output()).toBe(0);
    }

    const all = await aggregates(source, 'src.events');
    expect(await readTable(catalogOf('filesystem'))).toEqual(all);
    expect(await readTable(catalogOf('sql'))).toEqual(all);
    const url2 = new URL(db.url);
    const [fsRows, sqlRows] = await runSparkSql({
      localDir: dir.path,
      conf: {
        ...hadoopCatalogConf('fs', warehouse('filesystem')),
        // The JDBC catalog's rows carry the Spark catalog's name: `coldtier`, as configured.
        'spark.sql.catalog.coldtier': 'org.apache.iceberg.spark.SparkCatalog',
        'spark.sql.catalog.coldtier.catalog-impl': 'org.apache.iceberg.jdbc.JdbcCatalog',
        'spark.sql.catalog.coldtier.uri': `jdbc:postgresql://${url2.host}${url2.pathname}`,
        'spark.sql.catalog.coldtier.jdbc.user': decodeURIComponent(url2.username),
        'spark.sql.catalog.coldtier.jdbc.password': decodeURIComponent(url2.password),
        'spark.sql.catalog.coldtier.warehouse': warehouse('sql'),
      },
      statements: ['fs', 'coldtier'].map(
        (c) => `SELECT count(*) AS n, CAST(sum(seq) AS STRING) AS seq, CAST(sum(size(tags)) AS STRING) AS tags,
          CAST(sum(attrs['a']) AS STRING) AS attrs_a, CAST(sum(price) AS STRING) AS price,
          CAST(count_if(note IS NULL) AS STRING) AS null_notes, CAST(sum(pair.b) AS STRING) AS pair_b
          FROM ${c}.cold.events`,
      ),
    });
    // Spark prints decimal sums at the column's scale, ClickHouse without trailing zeros.
    const comparable = (row: Record<string, unknown>) => ({ ...row, price: Number(row['price']).toFixed(4) });
    expect(comparable(fsRows![0]!)).toEqual(comparable(all));
    expect(comparable(sqlRows![0]!)).toEqual(comparable(all));
  });
});
