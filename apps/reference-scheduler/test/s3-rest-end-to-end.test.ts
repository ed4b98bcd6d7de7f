import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WATERMARK_SCHEMA, bronzeTableDdl, clickHouseIcebergTable, insertTrades } from '@coldtier/offload-core';
import {
  createTempDir,
  createTestDatabase,
  openTestPool,
  runPyIceberg,
  startClickHouseServer,
  startEmbeddedClickHouse,
  startFaultProxy,
  startRestCatalog,
  startS3Server,
  type ClickHouseTestServer,
  type Fault,
  type FaultProxy,
  type ProxiedRequest,
  type RestCatalogServer,
  type S3Server,
  type TempDir,
  type TestDatabase,
} from '@coldtier/test-support';
import { CLI, assertBuilt, coldtier, daemonUrl, startDaemon, waitFor, type CliResult } from './cli-helpers.js';

/**
 * Production shape: ClickHouse over HTTP → data files on an S3 server, in
 * both export modes (`stream`: rows through Coldtier; `server-side`:
 * ClickHouse writes the files through a named collection), commits through
 * the Iceberg project's REST catalog server (its metadata on the same S3
 * server), read back by PyIceberg through that catalog. A fault-injecting
 * proxy sits between Coldtier and the catalog, a recording one between the
 * server-side runs and ClickHouse. Every credential is a known string, so
 * the logs and the queries can be scanned for them.
 */

const TABLE = 'bronze_trades_binance';
/** The server-side mode's table, beside the stream mode's, so each counts its own snapshots. */
const SERVER_SIDE_TABLE = 'bronze_trades_kraken';
/** The daemon with table maintenance on: its compactions add snapshots the other tables' counts would not expect. */
const MAINTAINED_TABLE = 'bronze_trades_coinbase';
const NAMED_COLLECTION = 'coldtier_lake';
const BATCH = 500;
const REST_SECRET = 'rest-client-secret-5f1d';
const CH_PASSWORD = 'clickhouse-secret-9a7c';
const READER = fileURLToPath(new URL('fixtures/read_rest_table.py', import.meta.url));

let dir: TempDir;
let db: TestDatabase;
let clickhouse: ClickHouseTestServer;
let s3: S3Server;
let rest: RestCatalogServer;
let proxy: FaultProxy;
/** Between the server-side runs and ClickHouse: records every query Coldtier sends. */
let clickhouseProxy: FaultProxy;
let source: ClickHouseClient;
let config: string;
let serverSideConfig: string;
let maintainedConfig: string;
let env: NodeJS.ProcessEnv;
let nextSequence = 1n;
/** Snapshots each table had at its last exactly-once check (saves a PyIceberg start per test). */
const snapshotsSoFar = new Map<string, number>();
const logs: string[] = [];

beforeAll(async () => {
  assertBuilt();
  [dir, db, clickhouse, s3] = await Promise.all([
    createTempDir('coldtier-s3-rest-'),
    createTestDatabase(),
    startClickHouseServer({ username: 'offloader', password: CH_PASSWORD }),
    startS3Server(),
  ]);
  rest = await startRestCatalog({ s3 });
  [proxy, clickhouseProxy] = await Promise.all([startFaultProxy(rest.uri), startFaultProxy(clickhouse.url)]);
  source = clickhouse.client();
  await source.command({ query: 'CREATE DATABASE k2' });
  await source.command({ query: bronzeTableDdl('k2', TABLE, { ttlDays: null }) });
  await source.command({ query: bronzeTableDdl('k2', SERVER_SIDE_TABLE, { ttlDays: null }) });
  await source.command({ query: bronzeTableDdl('k2', MAINTAINED_TABLE, { ttlDays: null }) });
  // What the operator does once on the ClickHouse server; Coldtier only names the collection.
  await source.command({ query: s3.namedCollectionSql(NAMED_COLLECTION) });
  config = join(dir.path, 'coldtier.yaml');
  serverSideConfig = join(dir.path, 'coldtier-server-side.yaml');
  maintainedConfig = join(dir.path, 'coldtier-maintained.yaml');
  // Most tests count one snapshot per offload; maintenance (a rewrite is a snapshot too) runs for MAINTAINED_TABLE only.
  const yaml = (mode: 'stream' | 'server-side', clickhouseUrl: string, table: string, maintenance = '{ enabled: false }') =>
    `lateDataBufferMinutes: 0
retry: { retries: 0 }
maintenance: ${maintenance}
clickhouse: { url: ${JSON.stringify(clickhouseUrl)}, username: offloader, passwordEnv: SOURCE_CLICKHOUSE_PASSWORD }
runner:
  kind: embedded
  exportMode: ${mode}
  warehouse: ${JSON.stringify(rest.warehouse)}
  catalog: { kind: rest, uri: ${JSON.stringify(proxy.uri)}, credentialEnv: REST_CATALOG_CREDENTIAL, timeoutSeconds: 60 }
storage:
  s3:
    endpoint: ${JSON.stringify(s3.endpoint)}
    region: ${s3.region}
    pathStyle: true
    partSizeBytes: 5242880
    partsInFlight: 2
    clickhouse: { namedCollection: ${NAMED_COLLECTION} }
tables:
  - { source: k2.${table}, target: cold.${table}, layer: bronze, timestampColumn: exchange_timestamp, sequenceColumn: sequence_number, final: true, timeoutSeconds: 120 }
`;
  await writeFile(config, yaml('stream', clickhouse.url, TABLE));
  await writeFile(serverSideConfig, yaml('server-side', clickhouseProxy.uri, SERVER_SIDE_TABLE));
  // After every cycle (0.0005 h), partitions compacted as soon as written; orphan removal keeps its default grace.
  await writeFile(maintainedConfig, yaml('server-side', clickhouse.url, MAINTAINED_TABLE, '{ intervalHours: 0.0005, compactQuietMinutes: 0 }'));
  env = {
    COLDTIER_DATABASE_URL: db.url,
    SOURCE_CLICKHOUSE_PASSWORD: CH_PASSWORD,
    REST_CATALOG_CREDENTIAL: `coldtier:${REST_SECRET}`,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
  };
  expect((await coldtier(['migrate', '--config', config], { env })).code).toBe(0);
}, 240_000);

afterAll(async () => {
  await proxy?.stop();
  await clickhouseProxy?.stop();
  await rest?.stop();
  await s3?.stop();
  await clickhouse?.stop();
  await db?.drop();
  await dir?.remove();
});

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

const batches = new Map<string, number>();

/** Each batch after the table's last one in time, so no row arrives behind a committed watermark. */
async function insertBatch(table = TABLE): Promise<void> {
  const first = nextSequence;
  nextSequence += BigInt(BATCH);
  const n = batches.get(table) ?? 0;
  batches.set(table, n + 1);
  const start = 200 - 20 * n;
  await insertTrades(source, 'k2', table, { exchange: 'binance', firstSequence: first, count: BATCH, from: minutesAgo(start), to: minutesAgo(start - 10) });
}

/** The killed run's lease lapses, as its 60 s TTL would. */
async function expireLeases(): Promise<void> {
  const pool = openTestPool({ connectionString: db.url, max: 1 });
  try {
    await pool.query(`UPDATE ${DEFAULT_WATERMARK_SCHEMA}.offload_leases SET expires_at = now() - interval '1 second'`);
  } finally {
    await pool.end();
  }
}

async function runOnce(configPath = config): Promise<CliResult> {
  const result = await coldtier(['run', '--once', '--config', configPath, '--log-format', 'json', '--verbose'], { env });
  logs.push(result.stdout, result.stderr);
  return result;
}

interface PyIcebergView {
  count: number;
  uniq_sequence: number;
  sum_sequence: string;
  sum_price: string;
  sum_quantity: string;
  field_ids: Record<string, number>;
  /** Per live data file, each top-level Parquet column's field id as written in the file's footer. */
  file_field_ids: Record<string, number | null>[];
  snapshots: { id: string; operation: string | null; run_id: string | null; added_records: string; total_records: string }[];
}

async function readWithPyIceberg(table = TABLE): Promise<PyIcebergView> {
  const stdout = await runPyIceberg(READER, [rest.uri, s3.endpoint, `cold.${table}`], {
    env: { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey },
  });
  return JSON.parse(stdout) as PyIcebergView;
}

const decimal = (s: string) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);

async function sourceTotals(table = TABLE) {
  const rs = await source.query({
    query: `SELECT count() AS count, toString(sum(sequence_number)) AS seq, toString(sum(price)) AS price, toString(sum(quantity)) AS quantity FROM k2.${table} FINAL`,
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ count: string | number; seq: string; price: string; quantity: string }>();
  return { count: Number(row!.count), seq: row!.seq, price: decimal(row!.price), quantity: decimal(row!.quantity) };
}

/** Every source row exactly once, no run with two snapshots. */
async function expectExactlyOnce(table = TABLE): Promise<PyIcebergView> {
  const [view, totals] = await Promise.all([readWithPyIceberg(table), sourceTotals(table)]);
  expect(view.count).toBe(totals.count);
  expect(view.uniq_sequence).toBe(totals.count);
  expect(view.sum_sequence).toBe(totals.seq);
  expect(decimal(view.sum_price)).toBe(totals.price);
  expect(decimal(view.sum_quantity)).toBe(totals.quantity);
  // Offloads append; a compaction's replace carries the run id of the append it follows (with the watermark).
  const runs = view.snapshots.filter((s) => s.operation === 'append').map((s) => s.run_id);
  expect(new Set(runs).size).toBe(runs.length);
  // The data files carry the table schema's field ids in their footers (PyIceberg alone would also read them by a name mapping).
  expect(view.file_field_ids.length).toBeGreaterThan(0);
  for (const ids of view.file_field_ids) expect(ids).toEqual(view.field_ids);
  snapshotsSoFar.set(table, view.snapshots.length);
  return view;
}

/** ClickHouse's own Iceberg reader (`icebergS3()`, straight from the bucket) on the table's newest snapshot. */
async function readWithClickHouseIceberg(client: ClickHouseClient, from: string, params: Record<string, string> = {}) {
  const rs = await client.query({
    query: `SELECT count() AS n, toString(sum(sequence_number)) AS seq, toString(sum(price)) AS price FROM ${from}`,
    query_params: params,
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ n: string | number; seq: string; price: string }>();
  return { n: Number(row!.n), seq: row!.seq, price: decimal(row!.price) };
}

const isCommit = (r: ProxiedRequest) => r.method === 'POST' && r.path.endsWith(`/tables/${TABLE}`);

/** Injects `fault` into the next commit; the returned function tells whether it was. */
function onNextCommit(fault: Fault): () => boolean {
  let used = false;
  proxy.setRule((r) => {
    if (used || !isCommit(r)) return undefined;
    used = true;
    return fault;
  });
  return () => used;
}

const MODES = [
  { mode: 'stream', table: TABLE, configPath: () => config },
  { mode: 'server-side', table: SERVER_SIDE_TABLE, configPath: () => serverSideConfig },
] as const;

describe.each(MODES)('coldtier run --once, $mode export: ClickHouse over HTTP → S3 + REST catalog', ({ mode, table, configPath }) => {
  it('PyIceberg through the REST catalog and ClickHouse icebergS3() read the same counts, sums, field ids and snapshot summary as the source', { timeout: 240_000 }, async () => {
    await insertBatch(table);
    const queriesBefore = clickhouseProxy.requests.length;
    const result = await runOnce(configPath());
    expect(result.code, result.stderr).toBe(0);
    // Every line is a log line, the AWS SDK's notice about Node versions included (Node prints warnings as free text).
    for (const line of result.stderr.split('\n').filter((l) => l.trim() !== '')) expect(() => JSON.parse(line), line).not.toThrow();
    const view = await expectExactlyOnce(table);
    expect(view.snapshots).toHaveLength(1);
    expect(view.snapshots[0]).toMatchObject({ added_records: String(BATCH), total_records: String(BATCH) });
    expect(view.snapshots[0]?.run_id).toMatch(/./);
    expect(Object.values(view.field_ids).every((id) => Number.isInteger(id) && id > 0)).toBe(true);
    expect(view.field_ids['sequence_number']).toBeDefined();
    const totals = await sourceTotals(table);
    const expected = { n: totals.count, seq: totals.seq, price: totals.price };
    // A third reader: ClickHouse's icebergS3() straight from the bucket (its own metadata and Parquet readers).
    const reader = await startEmbeddedClickHouse();
    try {
      const from = `icebergS3('${s3.endpoint}/warehouse/warehouse/cold/${table}/', '${s3.accessKeyId}', '${s3.secretAccessKey}')`;
      expect(await readWithClickHouseIceberg(reader.client, from)).toEqual(expected);
    } finally {
      await reader.close();
    }
    // And the ClickHouse server through its named collection, with the SQL Coldtier's own reads use.
    const params: Record<string, string> = {};
    const values = { bind: (type: string, value: string) => ((params[`v${Object.keys(params).length}`] = value), `{v${Object.keys(params).length - 1}:${type}}`) };
    const storage = { s3: { endpoint: s3.endpoint, region: s3.region, pathStyle: true, clickhouse: { namedCollection: NAMED_COLLECTION } } };
    expect(await readWithClickHouseIceberg(source, clickHouseIcebergTable(`${rest.warehouse}/cold/${table}`, storage, values), params)).toEqual(expected);
    if (mode === 'server-side') {
      // ClickHouse wrote the files into the bucket itself: no Parquet came through Coldtier, and no query carried a secret.
      const queries = clickhouseProxy.requests.slice(queriesBefore).map((r) => `${decodeURIComponent(r.path)}\n${r.body}`);
      expect(queries.some((q) => q.includes('INSERT INTO FUNCTION s3('))).toBe(true);
      expect(queries.some((q) => /FORMAT Parquet/i.test(q))).toBe(false);
      for (const q of queries) expect(q).not.toContain(s3.secretAccessKey);
    } else {
      // The token request went to the catalog's endpoint; every catalog call carried a bearer token.
      expect(proxy.requests.some((r) => r.path === '/v1/oauth/tokens')).toBe(true);
      const commits = proxy.requests.filter(isCommit);
      expect(commits.length).toBeGreaterThan(0);
      expect(commits.every((r) => String(r.headers['authorization']).startsWith('Bearer '))).toBe(true);
    }
  });

  it('coldtier reconcile --exact reads the data files on S3 through the named collection: every row once', { timeout: 120_000 }, async () => {
    const since = new Date(Date.now() - 86_400_000).toISOString();
    const result = await coldtier(['reconcile', '--config', configPath(), '--table', table, '--since', since, '--exact', '--json'], { env });
    logs.push(result.stdout, result.stderr);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { source: string; duplicatesExact: boolean; ranges: { icebergRows: number; duplicates: number; status: string }[] };
    expect(report).toMatchObject({ source: 'data', duplicatesExact: true });
    expect(report.ranges.every((r) => r.status === 'ok' && r.duplicates === 0)).toBe(true);
    expect(report.ranges.reduce((n, r) => n + r.icebergRows, 0)).toBe((await sourceTotals(table)).count);
  });
});

describe('coldtier run --once under catalog faults (stream export; the mode does not change the commit)', () => {
  it.each([
    ['(a) a 500 after the catalog applied the commit', { after: { status: 500, body: '{"error":{"message":"boom","type":"ServerError","code":500}}' } }],
    ['(b) the connection dropped after the catalog applied the commit', { after: 'drop' as const }],
    ['(c) a 409 once', { before: { status: 409, body: '{"error":{"message":"Requirement failed","type":"CommitFailedException","code":409}}' } }],
  ])('%s: the run succeeds, every row once, one snapshot for the run', { timeout: 240_000 }, async (_name, fault) => {
    const before = snapshotsSoFar.get(TABLE) ?? 0;
    await insertBatch();
    const injected = onNextCommit(fault);
    const result = await runOnce();
    proxy.setRule(undefined);
    expect(injected()).toBe(true);
    expect(result.code, result.stderr).toBe(0);
    const view = await expectExactlyOnce();
    expect(view.snapshots).toHaveLength(before + 1);
  });

  it('(d) SIGKILL of Coldtier after it sent the commit: the next run recovers, nothing is written twice', { timeout: 240_000 }, async () => {
    const before = snapshotsSoFar.get(TABLE) ?? 0;
    await insertBatch();
    // The catalog applies the commit; its answer never reaches Coldtier.
    let answered!: () => void;
    const applied = new Promise<void>((resolve) => (answered = resolve));
    proxy.setRule((r) => (isCommit(r) ? { after: (body) => (answered(), body), hold: true } : undefined));
    const child = spawn(process.execPath, [CLI, 'run', '--once', '--config', config, '--log-format', 'json'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await Promise.race([applied, exited.then(() => Promise.reject(new Error(`coldtier exited before committing:\n${output}`)))]);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    logs.push(output);
    proxy.setRule(undefined);
    expect((await readWithPyIceberg()).snapshots).toHaveLength(before + 1);

    await expireLeases();
    const rerun = await runOnce();
    expect(rerun.code, rerun.stderr).toBe(0);
    const view = await expectExactlyOnce();
    expect(view.snapshots).toHaveLength(before + 1);
  });

});

describe.each(MODES)('coldtier start, $mode export', ({ table, configPath }) => {
  it('coldtier start offloads what arrives in each of two cycles, then stops cleanly on SIGTERM', { timeout: 240_000 }, async () => {
    const before = snapshotsSoFar.get(table) ?? 0;
    await insertBatch(table);
    const daemon = startDaemon(['--config', configPath(), '--interval-seconds', '10', '--port', '0', '--log-format', 'json'], { env, cwd: dir.path });
    try {
      const url = await daemonUrl(daemon);
      const cyclesWithRows = async (n: number) => {
        const body = (await (await fetch(`${url}/status`)).json()) as { cycles: { status: string; totalRows: number }[] };
        const moved = body.cycles.filter((c) => c.status === 'success' && c.totalRows > 0);
        return moved.length >= n ? moved : undefined;
      };
      await waitFor('a first cycle that moved rows', () => cyclesWithRows(1), daemon, 120_000);
      await insertBatch(table);
      const moved = await waitFor('a second cycle that moved rows', () => cyclesWithRows(2), daemon, 120_000);
      expect(moved.map((c) => c.totalRows)).toEqual([BATCH, BATCH]);
    } finally {
      daemon.child.kill('SIGTERM');
      expect(await daemon.exited, daemon.output()).toBe(0);
      logs.push(daemon.output());
    }
    const view = await expectExactlyOnce(table);
    expect(view.snapshots).toHaveLength(before + 2);
    expect(view.snapshots.slice(-2).map((x) => x.added_records)).toEqual([String(BATCH), String(BATCH)]);
  });
});

describe('coldtier start with table maintenance, server-side export', () => {
  it('compacts the small files of five cycles on S3 through the named collection, and every row stays exactly once', { timeout: 360_000 }, async () => {
    await insertBatch(MAINTAINED_TABLE);
    const daemon = startDaemon(['--config', maintainedConfig, '--interval-seconds', '10', '--port', '0', '--log-format', 'json'], { env, cwd: dir.path });
    try {
      const url = await daemonUrl(daemon);
      const cyclesWithRows = async (n: number) => {
        const body = (await (await fetch(`${url}/status`)).json()) as { cycles: { status: string; totalRows: number }[] };
        return body.cycles.filter((c) => c.status === 'success' && c.totalRows > 0).length >= n || undefined;
      };
      // Five files: compaction's least number of inputs below the target size (Spark's min-input-files).
      for (let cycle = 1; cycle <= 5; cycle++) {
        if (cycle > 1) await insertBatch(MAINTAINED_TABLE);
        await waitFor(`cycle ${cycle} moving rows`, () => cyclesWithRows(cycle), daemon, 120_000);
      }
      const compacted = async () => {
        const metrics = await (await fetch(`${url}/metrics`)).text();
        const line = metrics.split('\n').find((l) => l.startsWith(`offload_maintenance_bytes_rewritten_total{table="${MAINTAINED_TABLE}"}`));
        return line && Number(line.split(' ').at(-1)) > 0 ? line : undefined;
      };
      await waitFor('a compaction that rewrote files', compacted, daemon, 120_000);
    } finally {
      daemon.child.kill('SIGTERM');
      expect(await daemon.exited, daemon.output()).toBe(0);
      logs.push(daemon.output());
    }
    const view = await expectExactlyOnce(MAINTAINED_TABLE);
    expect(view.file_field_ids.length).toBeLessThan(5);
    expect(view.snapshots.filter((x) => x.operation === 'append').map((x) => x.added_records)).toEqual(Array(5).fill(String(BATCH)));
    expect(view.snapshots.map((x) => x.operation)).toContain('replace');
  });
});

describe('secrets', () => {
  it('no secret appears in any log line of these runs', () => {
    const all = logs.join('\n');
    expect(all.length).toBeGreaterThan(0);
    for (const secret of [REST_SECRET, CH_PASSWORD, s3.secretAccessKey]) expect(all).not.toContain(secret);
  });

  it('no query Coldtier sent ClickHouse in server-side mode carries the S3 secret (chdb keeps no system.query_log; these are the queries it would log)', () => {
    const queries = clickhouseProxy.requests.map((r) => `${decodeURIComponent(r.path)}\n${r.body}`);
    expect(queries.filter((q) => q.includes(`s3({`) || q.includes('s3(`'))).not.toHaveLength(0);
    for (const q of queries) expect(q).not.toContain(s3.secretAccessKey);
  });
});
