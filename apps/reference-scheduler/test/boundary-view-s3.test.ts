import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WATERMARK_SCHEMA, bronzeTableDdl, insertTrades } from '@coldtier/offload-core';
import {
  createTempDir,
  createTestDatabase,
  openTestPool,
  startClickHouseServer,
  startRestCatalog,
  startS3Server,
  type ClickHouseTestServer,
  type RestCatalogServer,
  type S3Server,
  type TempDir,
  type TestDatabase,
} from '@coldtier/test-support';
import { assertBuilt, coldtier, daemonUrl, startDaemon, waitFor } from './cli-helpers.js';

/**
 * The view over both tiers on object storage: ClickHouse over HTTP → the
 * daemon → data files on an S3 server (moto), commits through the Iceberg
 * REST catalog; ClickHouse reads the cold side with `icebergS3` through a
 * named collection holding moto's credentials, so no secret is in the view.
 */

const TABLE = 'bronze_trades_binance';
const VIEW = `k2.${TABLE}_all`;
const COLLECTION = 'coldtier_s3';
const BATCH = 50;

let dir: TempDir;
let db: TestDatabase;
let clickhouse: ClickHouseTestServer;
let s3: S3Server;
let rest: RestCatalogServer;
let source: ClickHouseClient;
let env: NodeJS.ProcessEnv;
let nextSequence = 1n;
/** Each batch covers the minute after the last one's, 3 hours back, so no row arrives behind a committed watermark. */
let nextMinute = 180;

const configText = (storageClickHouse: string) => `lateDataBufferMinutes: 0
retry: { retries: 0 }
# The view pins the metadata file of the last offload; a maintenance rewrite is not what this test is about.
maintenance: { enabled: false }
clickhouse: { url: ${JSON.stringify(clickhouse.url)} }
runner:
  kind: embedded
  warehouse: ${JSON.stringify(rest.warehouse)}
  catalog: { kind: rest, uri: ${JSON.stringify(rest.uri)}, timeoutSeconds: 60 }
storage:
  s3: { endpoint: ${JSON.stringify(s3.endpoint)}, region: ${s3.region}, pathStyle: true${storageClickHouse} }
tables:
  - { source: k2.${TABLE}, target: cold.${TABLE}, layer: bronze, timestampColumn: exchange_timestamp, sequenceColumn: sequence_number, final: true, timeoutSeconds: 120 }
`;
let config: string;

beforeAll(async () => {
  assertBuilt();
  [dir, db, clickhouse, s3] = await Promise.all([createTempDir('coldtier-view-s3-'), createTestDatabase(), startClickHouseServer(), startS3Server()]);
  rest = await startRestCatalog({ s3 });
  source = clickhouse.client();
  await source.command({ query: 'CREATE DATABASE k2' });
  await source.command({ query: bronzeTableDdl('k2', TABLE, { ttlDays: null }) });
  // What the operator runs once on the ClickHouse server (see the README): the store's credentials, under a name.
  await source.command({
    query: s3.namedCollectionSql(COLLECTION),
  });
  config = join(dir.path, 'coldtier.yaml');
  await writeFile(config, configText(`, clickhouse: { namedCollection: ${COLLECTION} }`));
  env = { COLDTIER_DATABASE_URL: db.url, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey };
  expect((await coldtier(['migrate', '--config', config], { env })).code).toBe(0);
}, 240_000);

afterAll(async () => {
  await rest?.stop();
  await s3?.stop();
  await clickhouse?.stop();
  await db?.drop();
  await dir?.remove();
});

async function insertBatch(): Promise<void> {
  const from = new Date(Date.now() - nextMinute * 60_000);
  nextMinute -= 1;
  await insertTrades(source, 'k2', TABLE, { exchange: 'binance', firstSequence: nextSequence, count: BATCH, from, to: new Date(from.getTime() + 60_000) });
  nextSequence += BigInt(BATCH);
}

interface Totals {
  readonly n: string;
  readonly seq: string;
  readonly price: string;
  readonly sells: string;
  readonly ts: string;
}

async function totals(from: string): Promise<Totals> {
  const result = await source.query({
    query: `SELECT toString(count()) AS n, toString(sum(sequence_number)) AS seq, toString(sum(price)) AS price,
      toString(countIf(side = 'sell')) AS sells, toString(sum(toUnixTimestamp64Milli(exchange_timestamp))) AS ts FROM ${from}`,
    format: 'JSONEachRow',
  });
  const [row] = await result.json<Totals>();
  return row!;
}

/** The REST catalog's current metadata file of the table. */
async function catalogMetadataLocation(): Promise<string> {
  const response = await fetch(`${rest.uri}/v1/namespaces/cold/tables/${TABLE}`, { signal: AbortSignal.timeout(10_000) });
  expect(response.status).toBe(200);
  return ((await response.json()) as { 'metadata-location': string })['metadata-location'];
}

/** The committed watermark, from the store: the rows at or before it are in Iceberg. */
async function committedWatermark(table = TABLE): Promise<{ micros: string; sequence: string }> {
  const pool = openTestPool({ connectionString: db.url, max: 1 });
  try {
    const { rows } = await pool.query<{ micros: string; sequence: string }>(
      `SELECT (extract(epoch FROM last_offload_timestamp) * 1000000)::bigint::text AS micros, last_offload_max_sequence::text AS sequence
       FROM ${DEFAULT_WATERMARK_SCHEMA}.offload_watermarks WHERE table_name = $1`,
      [table],
    );
    return rows[0]!;
  } finally {
    await pool.end();
  }
}

/** Drops the offloaded rows from the hot table, as a TTL would. */
async function deleteOffloaded(table = TABLE): Promise<void> {
  const wm = await committedWatermark(table);
  await source.command({
    query: `ALTER TABLE k2.${table} DELETE WHERE (toUnixTimestamp64Micro(exchange_timestamp), sequence_number) <= (${wm.micros}, ${wm.sequence}) SETTINGS mutations_sync = 1`,
  });
}

describe('the view over both tiers on S3 + the REST catalog, ClickHouse over HTTP', () => {
  it('equals the source at every sample while the daemon offloads continuously; deleting the offloaded hot rows leaves its totals unchanged', { timeout: 300_000 }, async () => {
    for (let i = 0; i < 10; i++) await insertBatch();
    const applied = await coldtier(['view', '--config', config, '--table', TABLE, '--apply'], { env });
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toBe(`created view ${VIEW}\n`);

    // --verbose: the daemon logs each move of the view's boundary (ClickHouse hides a view's SETTINGS in its definition).
    const daemon = startDaemon(['--config', config, '--interval-seconds', '10', '--port', '0', '--log-format', 'json', '--verbose'], { env, cwd: dir.path });
    const moves = () => daemon.output().match(/moved to the new boundary/g)?.length ?? 0;
    let samples = 0;
    const started = Date.now();
    try {
      await daemonUrl(daemon);
      // Samples between inserts while cycles commit and the daemon moves the boundary; bounded in time, not in speed.
      while ((samples < 100 || moves() < 3) && Date.now() - started < 90_000) {
        if (samples % 4 === 0) await insertBatch();
        const view = await totals(VIEW);
        const hot = await totals(`k2.${TABLE} FINAL`);
        expect(view, `sample ${samples}`).toEqual(hot);
        samples++;
        // Leaves the shared server room for the daemon's cycles.
        await new Promise((r) => setTimeout(r, 100));
      }
      await waitFor('the last batch offloaded', async () => ((await committedWatermark()).sequence === String(nextSequence - 1n) ? true : undefined), daemon);
    } finally {
      daemon.child.kill('SIGTERM');
      expect(await daemon.exited, daemon.output()).toBe(0);
    }
    const seconds = (Date.now() - started) / 1000;
    // The daemon drains its boundary work before it exits: every commit moved the view, none failed to.
    const commits = daemon.output().match(/Offload completed: \S+ \((?!0 rows)/g)?.length ?? 0;
    expect(samples).toBeGreaterThanOrEqual(100);
    expect(commits).toBeGreaterThanOrEqual(3);
    expect(moves()).toBe(commits);
    expect(daemon.output()).not.toMatch(/view of \S+ failed/);

    // The offloaded rows really come from S3: drop them from the hot table (as a TTL would) and the view still has them.
    const before = await totals(`k2.${TABLE} FINAL`);
    await deleteOffloaded();
    const hot = await totals(`k2.${TABLE} FINAL`);
    expect(Number(hot.n)).toBeLessThan(Number(before.n) / 2);
    expect(await totals(VIEW)).toEqual(before);
    console.log(
      `view over both tiers on S3 + REST: ${samples} samples equal to the source across ${commits} commits in ${seconds.toFixed(0)} s; ${before.n} rows, ${hot.n} still hot`,
    );
  });

  it('coldtier view prints icebergS3 through the named collection, pinned to the last commit, with no credential; --apply replaces the view', { timeout: 120_000 }, async () => {
    await insertBatch();
    const run = await coldtier(['run', '--once', '--config', config], { env });
    expect(run.code, run.stderr).toBe(0);
    const metadata = await catalogMetadataLocation();
    const location = `s3://warehouse/warehouse/cold/${TABLE}`;
    expect(metadata.startsWith(`${location}/metadata/`)).toBe(true);

    const printed = await coldtier(['view', '--config', config, '--table', TABLE], { env });
    expect(printed.code, printed.stderr).toBe(0);
    // ClickHouse reaches moto over HTTP, path-style, at the table location; the metadata file is named relative to it.
    expect(printed.stdout).toContain(
      ` FROM icebergS3(\`${COLLECTION}\`, url = '${s3.endpoint}/warehouse/warehouse/cold/${TABLE}/', SETTINGS iceberg_metadata_file_path = '${metadata.slice(location.length + 1)}'))`,
    );
    for (const secret of [s3.accessKeyId, s3.secretAccessKey]) expect(printed.stdout).not.toContain(secret);

    const applied = await coldtier(['view', '--config', config, '--table', TABLE, '--apply'], { env });
    expect(applied.code, applied.stderr).toBe(0);
    // The first test deleted the offloaded hot rows: every sequence number inserted, once, is the whole truth.
    const inserted = nextSequence - 1n;
    expect(await totals(VIEW)).toMatchObject({ n: String(inserted), seq: String((inserted * (inserted + 1n)) / 2n) });
    const shown = await source.query({ query: `SHOW CREATE TABLE ${VIEW}`, format: 'JSONEachRow' });
    const [{ statement: definition }] = (await shown.json<{ statement: string }>()) as [{ statement: string }];
    expect(definition).toContain(`icebergS3(${COLLECTION}, url = `);
    for (const secret of [s3.accessKeyId, s3.secretAccessKey]) expect(definition).not.toContain(secret);
  });

  it('without storage.s3.clickhouse.namedCollection the view is refused in one line naming the key, before the first commit too, and the view in place stays', async () => {
    const bare = join(dir.path, 'no-collection.yaml');
    // A second table that never committed: its view would be all hot now, and unreadable after the first commit.
    const fresh = `  - { name: fresh, source: k2.${TABLE}, target: cold.fresh, layer: bronze, timestampColumn: exchange_timestamp, sequenceColumn: sequence_number }\n`;
    await writeFile(bare, configText('') + fresh);
    const before = await source.query({ query: `SELECT create_table_query AS q FROM system.tables WHERE database = 'k2' AND name = '${TABLE}_all'`, format: 'JSONEachRow' });
    for (const args of [['--table', TABLE], ['--table', TABLE, '--apply'], ['--table', 'fresh']]) {
      const refused = await coldtier(['view', '--config', bare, ...args], { env });
      expect(refused.code).toBe(2);
      expect(refused.stdout).toBe('');
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
      expect(refused.stderr).toMatch(/^coldtier view: .*storage\.s3\.clickhouse\.namedCollection/);
    }
    const after = await source.query({ query: `SELECT create_table_query AS q FROM system.tables WHERE database = 'k2' AND name = '${TABLE}_all'`, format: 'JSONEachRow' });
    expect(await after.json()).toEqual(await before.json());
  });

  it('on the SQL catalog with its warehouse on S3 as well', { timeout: 120_000 }, async () => {
    const table = 'bronze_trades_kraken';
    await source.command({ query: bronzeTableDdl('k2', table, { ttlDays: null }) });
    await insertTrades(source, 'k2', table, { exchange: 'kraken', firstSequence: 1n, count: 300, from: new Date(Date.now() - 3 * 3_600_000), to: new Date(Date.now() - 2 * 3_600_000) });
    const sql = join(dir.path, 'sql-catalog.yaml');
    await writeFile(
      sql,
      configText(`, clickhouse: { namedCollection: ${COLLECTION} }`)
        .replace(/^ {2}warehouse: .*\n {2}catalog: .*$/m, '  warehouse: s3://warehouse/sql-catalog\n  catalog: sql')
        .replace(/^ {2}- \{ source: .*$/m, `  - { source: k2.${table}, target: cold.${table}, layer: bronze, timestampColumn: exchange_timestamp, sequenceColumn: sequence_number, final: true }`),
    );
    const run = await coldtier(['run', '--once', '--config', sql], { env });
    expect(run.code, run.stderr).toBe(0);
    const applied = await coldtier(['view', '--config', sql, '--table', table, '--apply'], { env });
    expect(applied.code, applied.stderr).toBe(0);
    const view = `k2.${table}_all`;
    const printed = await coldtier(['view', '--config', sql, '--table', table], { env });
    expect(printed.stdout).toContain(` FROM icebergS3(\`${COLLECTION}\`, url = '${s3.endpoint}/warehouse/sql-catalog/cold/${table}/', SETTINGS iceberg_metadata_file_path = 'metadata/`);

    const before = await totals(`k2.${table} FINAL`);
    expect(before.n).toBe('300');
    expect(await totals(view)).toEqual(before);
    await deleteOffloaded(table);
    expect((await totals(`k2.${table} FINAL`)).n).toBe('0');
    expect(await totals(view)).toEqual(before);
  });
});
